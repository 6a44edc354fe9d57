//! Input rules shared by the edge and the services, so both refuse the same values.

/// Whether `value` looks like an email address a reply can be sent to: one '@' with something
/// before it, a dotted domain, no spaces or control characters, at most 254 bytes.
pub fn is_email(value: &str) -> bool {
    value.len() <= 254
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
}

#[cfg(test)]
mod tests {
    use super::is_email;

    #[test]
    fn accepts_addresses_and_refuses_the_rest() {
        assert!(is_email("ann@example.com"));
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@example",
            "ann@.com",
            "ann@x.",
            "a b@x.com",
            "a@b@x.com",
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
    }
}

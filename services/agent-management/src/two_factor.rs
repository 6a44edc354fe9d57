//! TOTP two-factor authentication (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), the scheme
//! every authenticator app speaks.
//!
//! An agent turns it on in two steps: [`crate::store::Store::begin_two_factor`] stores a new
//! secret as pending and returns it (with an `otpauth://` URI for a QR code); the first valid
//! code confirms it. From then on a login needs a code besides the password. A code is accepted
//! for the current step and one step either side (clock drift), and only once: the accepted
//! step is stored and codes for it or an earlier step are refused, so a code seen over a
//! shoulder cannot be replayed.

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;

/// Seconds per step.
const STEP_SECS: i64 = 30;
/// Steps either side of now that are accepted.
const DRIFT_STEPS: i64 = 1;

/// Returns a new random 160-bit secret in base32.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    BASE32_NOPAD.encode(&bytes)
}

/// The step `unix_secs` falls in.
pub fn step_at(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The 6-digit code of `secret` (raw bytes) for `step` (RFC 4226 with the step as counter).
pub fn code(secret: &[u8], step: i64) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    binary % 1_000_000
}

/// Returns the step `presented` is the code of, if it is one of the accepted steps around
/// `unix_secs` and later than `last_step`.
pub fn verify(
    secret_base32: &str,
    presented: &str,
    unix_secs: i64,
    last_step: Option<i64>,
) -> Option<i64> {
    let presented = presented.trim();
    if presented.len() != 6 || !presented.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let presented: u32 = presented.parse().ok()?;
    let secret = BASE32_NOPAD.decode(secret_base32.as_bytes()).ok()?;
    let now = step_at(unix_secs);
    (now - DRIFT_STEPS..=now + DRIFT_STEPS)
        .filter(|step| last_step.is_none_or(|last| *step > last))
        .find(|step| constant_time_eq(code(&secret, *step), presented))
}

fn constant_time_eq(a: u32, b: u32) -> bool {
    (a ^ b) == 0
}

/// The `otpauth://` URI authenticator apps read from a QR code.
pub fn otpauth_uri(secret: &str, account: &str, issuer: &str) -> String {
    let encode = |text: &str| {
        text.bytes()
            .map(|byte| match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                    char::from(byte).to_string()
                }
                _ => format!("%{byte:02X}"),
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits=6&period=30",
        encode(issuer),
        encode(account),
        encode(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows (8-digit values; the 6-digit code is their last six).
    #[test]
    fn codes_match_the_rfc_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, expected) in [
            (59, 94_287_082_u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
        ] {
            assert_eq!(
                code(secret, step_at(time)),
                expected % 1_000_000,
                "t={time}"
            );
        }
    }

    #[test]
    fn a_code_is_good_within_a_step_of_now_and_only_once() {
        let secret = BASE32_NOPAD.encode(b"12345678901234567890");
        let now = 1_111_111_111;
        let current = format!("{:06}", code(b"12345678901234567890", step_at(now)));
        let step = verify(&secret, &current, now, None).expect("current code");
        assert_eq!(step, step_at(now));
        assert_eq!(verify(&secret, &current, now, Some(step)), None, "replayed");
        assert!(
            verify(&secret, &current, now + 30, None).is_some(),
            "one step late"
        );
        assert_eq!(
            verify(&secret, &current, now + 90, None),
            None,
            "three steps late"
        );
        for bad in ["", "12345", "1234567", "abcdef", "000000"] {
            assert_eq!(verify(&secret, bad, now, None), None, "{bad:?}");
        }
    }

    #[test]
    fn the_uri_names_issuer_and_account() {
        let uri = otpauth_uri("ABC", "ana@acme.example", "Switchboard Acme");
        assert_eq!(
            uri,
            "otpauth://totp/Switchboard%20Acme:ana@acme.example?secret=ABC&issuer=Switchboard%20Acme&algorithm=SHA1&digits=6&period=30"
        );
    }
}

//! Choosing an agent for a conversation: the pure part of routing, kept free of I/O so every
//! rule can be tested on its own.
//!
//! [`rank`] filters the online agents down to those who may take the conversation (free
//! capacity, member of its department, every required skill) and orders them by the
//! department's strategy. A sticky agent, when eligible, goes first whatever the strategy. The
//! caller tries them in order: the database may still say an agent is full (another routing
//! instance got there first), and then the next one is tried.

use chrono::{DateTime, Utc};
use switchboard_proto::agent::v1 as agent_pb;
use uuid::Uuid;

/// How to order the eligible agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Fewest open conversations first (ties: longest idle, then agent id).
    #[default]
    LeastLoaded,
    /// Agents take turns in agent-id order, starting after the last one served.
    RoundRobin,
    /// The agent whose last assignment or finished conversation is oldest (never active first).
    LongestIdle,
}

impl Strategy {
    /// Converts the department setting; unknown values route least-loaded.
    pub fn from_proto(value: i32) -> Self {
        match agent_pb::RoutingStrategy::try_from(value) {
            Ok(agent_pb::RoutingStrategy::RoundRobin) => Self::RoundRobin,
            Ok(agent_pb::RoutingStrategy::LongestIdle) => Self::LongestIdle,
            _ => Self::LeastLoaded,
        }
    }
}

/// An online agent considered for a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub agent_id: Uuid,
    pub department_ids: Vec<Uuid>,
    pub skills: Vec<String>,
    pub max_concurrent: u32,
    /// Open assignments.
    pub load: u32,
    pub last_assigned_at: Option<DateTime<Utc>>,
    pub last_released_at: Option<DateTime<Utc>>,
}

impl Candidate {
    /// Whether the agent can take one more conversation.
    pub fn has_room(&self) -> bool {
        self.load < self.max_concurrent
    }

    /// Since when the agent has had nothing new: its latest assignment or release.
    pub fn active_at(&self) -> Option<DateTime<Utc>> {
        self.last_assigned_at.max(self.last_released_at)
    }
}

/// What one conversation asks of its agent.
#[derive(Debug, Clone, Default)]
pub struct Rules<'a> {
    /// Only members of this department; any agent when `None`.
    pub department: Option<Uuid>,
    pub strategy: Strategy,
    /// Skills the agent must all have.
    pub required_skills: &'a [String],
    /// The visitor's recent agent, preferred when eligible.
    pub sticky_agent: Option<Uuid>,
    /// Round-robin: the agent served last in this scope.
    pub rotation_after: Option<Uuid>,
}

/// Returns the indexes of the agents that may take the conversation, best first.
pub fn rank(candidates: &[Candidate], rules: &Rules<'_>) -> Vec<usize> {
    let mut eligible: Vec<usize> = candidates
        .iter()
        .enumerate()
        .filter(|(_, candidate)| is_eligible(candidate, rules))
        .map(|(index, _)| index)
        .collect();
    match rules.strategy {
        Strategy::LeastLoaded => eligible.sort_by_key(|&index| {
            let candidate = &candidates[index];
            (candidate.load, candidate.active_at(), candidate.agent_id)
        }),
        Strategy::LongestIdle => eligible.sort_by_key(|&index| {
            let candidate = &candidates[index];
            (candidate.active_at(), candidate.agent_id)
        }),
        Strategy::RoundRobin => {
            eligible.sort_by_key(|&index| candidates[index].agent_id);
            if let Some(last) = rules.rotation_after {
                let next = eligible
                    .iter()
                    .position(|&index| candidates[index].agent_id > last)
                    .unwrap_or(0);
                eligible.rotate_left(next);
            }
        }
    }
    if let Some(sticky) = rules.sticky_agent
        && let Some(place) = eligible
            .iter()
            .position(|&index| candidates[index].agent_id == sticky)
    {
        let index = eligible.remove(place);
        eligible.insert(0, index);
    }
    eligible
}

fn is_eligible(candidate: &Candidate, rules: &Rules<'_>) -> bool {
    candidate.has_room()
        && rules
            .department
            .is_none_or(|department| candidate.department_ids.contains(&department))
        && rules
            .required_skills
            .iter()
            .all(|skill| candidate.skills.contains(skill))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minute: u32) -> Option<DateTime<Utc>> {
        Utc.with_ymd_and_hms(2026, 11, 25, 10, minute, 0).single()
    }

    fn agent(n: u128, load: u32, max: u32) -> Candidate {
        Candidate {
            agent_id: Uuid::from_u128(n),
            department_ids: Vec::new(),
            skills: Vec::new(),
            max_concurrent: max,
            load,
            last_assigned_at: None,
            last_released_at: None,
        }
    }

    fn ids(candidates: &[Candidate], ranked: &[usize]) -> Vec<u128> {
        ranked
            .iter()
            .map(|&index| candidates[index].agent_id.as_u128())
            .collect()
    }

    fn ranked(candidates: &[Candidate], rules: &Rules<'_>) -> Vec<u128> {
        ids(candidates, &rank(candidates, rules))
    }

    #[test]
    fn least_loaded_prefers_fewest_open_conversations_and_skips_full_agents() {
        let agents = [
            agent(1, 2, 3),
            agent(2, 1, 3),
            agent(3, 0, 0),
            agent(4, 3, 3),
        ];
        assert_eq!(ranked(&agents, &Rules::default()), [2, 1]);
    }

    #[test]
    fn least_loaded_breaks_ties_by_idle_time_then_id() {
        let mut agents = [agent(9, 1, 3), agent(4, 1, 3), agent(7, 1, 3)];
        agents[0].last_assigned_at = at(1);
        agents[1].last_assigned_at = at(5);
        assert_eq!(ranked(&agents, &Rules::default()), [7, 9, 4]);
    }

    #[test]
    fn round_robin_takes_turns_whatever_the_load() {
        // Agent 3 is the least loaded and the longest idle: only round-robin picks 2 next.
        let mut agents = [agent(1, 2, 5), agent(2, 2, 5), agent(3, 0, 5)];
        agents[0].last_assigned_at = at(9);
        agents[1].last_assigned_at = at(8);
        let rules = Rules {
            strategy: Strategy::RoundRobin,
            rotation_after: Some(Uuid::from_u128(1)),
            ..Rules::default()
        };
        assert_eq!(ranked(&agents, &rules), [2, 3, 1]);
        let wrapped = Rules {
            rotation_after: Some(Uuid::from_u128(3)),
            ..rules.clone()
        };
        assert_eq!(ranked(&agents, &wrapped), [1, 2, 3]);
        let fresh = Rules {
            rotation_after: None,
            ..rules
        };
        assert_eq!(ranked(&agents, &fresh), [1, 2, 3]);
    }

    #[test]
    fn longest_idle_prefers_the_agent_inactive_the_longest_whatever_the_load() {
        // Agent 1 is the least loaded and first in id order: only longest-idle picks 3.
        let mut agents = [agent(1, 0, 5), agent(2, 1, 5), agent(3, 2, 5)];
        agents[0].last_assigned_at = at(30);
        agents[1].last_assigned_at = at(10);
        agents[1].last_released_at = at(40);
        agents[2].last_assigned_at = at(20);
        let rules = Rules {
            strategy: Strategy::LongestIdle,
            ..Rules::default()
        };
        assert_eq!(ranked(&agents, &rules), [3, 1, 2]);
        agents[2].last_released_at = None;
        agents[0].last_assigned_at = None;
        assert_eq!(ranked(&agents, &rules), [1, 3, 2]);
    }

    #[test]
    fn sticky_agent_goes_first_when_eligible_only() {
        let agents = [agent(1, 0, 3), agent(2, 2, 3), agent(3, 3, 3)];
        let sticky = Rules {
            sticky_agent: Some(Uuid::from_u128(2)),
            ..Rules::default()
        };
        assert_eq!(ranked(&agents, &sticky), [2, 1]);
        let full = Rules {
            sticky_agent: Some(Uuid::from_u128(3)),
            ..Rules::default()
        };
        assert_eq!(ranked(&agents, &full), [1, 2]);
    }

    #[test]
    fn skills_and_department_narrow_the_candidates() {
        let (sales, support) = (Uuid::from_u128(100), Uuid::from_u128(200));
        let mut agents = [agent(1, 0, 3), agent(2, 1, 3), agent(3, 2, 3)];
        agents[0].department_ids = vec![support];
        agents[1].department_ids = vec![sales];
        agents[1].skills = vec!["billing".into()];
        agents[2].department_ids = vec![sales, support];
        agents[2].skills = vec!["billing".into(), "lang:zh".into()];
        let skills = ["billing".to_owned(), "lang:zh".to_owned()];
        let rules = Rules {
            department: Some(sales),
            required_skills: &skills,
            ..Rules::default()
        };
        assert_eq!(ranked(&agents, &rules), [3]);
        let billing = ["billing".to_owned()];
        let rules = Rules {
            department: Some(sales),
            required_skills: &billing,
            ..Rules::default()
        };
        assert_eq!(ranked(&agents, &rules), [2, 3]);
        let rules = Rules {
            department: Some(support),
            ..Rules::default()
        };
        assert_eq!(ranked(&agents, &rules), [1, 3]);
        assert!(rank(&[], &Rules::default()).is_empty());
    }
}

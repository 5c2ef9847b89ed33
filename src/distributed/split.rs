//! How one plan's load is split across generators so that it keeps its meaning: counts
//! add up exactly, kinds keep their weights over the whole run, and user numbers (hence
//! `per_user` rows, seeded customers and unique values) never collide. Pure functions.

use crate::scenario::{parse_test_plan, Plan, Share};

/// Part `index` of `total` split into `of` parts as evenly as possible; the parts add up
/// to `total`.
pub fn part(total: usize, index: usize, of: usize) -> usize {
    total / of + usize::from(index < total % of)
}

/// The sum of the parts before `index`: where part `index`'s numbering starts.
pub fn offset(total: usize, index: usize, of: usize) -> usize {
    (0..index).map(|i| part(total, i, of)).sum()
}

/// Users of each kind over the whole run: proportional to the weights, remainders to the
/// largest fractions (ties to the earlier kind), so they add up to `users`.
pub fn users_by_kind(weights: &[usize], users: usize) -> Vec<usize> {
    let total: usize = weights.iter().sum();
    if total == 0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights
        .iter()
        .map(|&w| users as f64 * w as f64 / total as f64)
        .collect();
    let mut counts: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    let short = users - counts.iter().sum::<usize>();
    for &k in order.iter().take(short) {
        counts[k] += 1;
    }
    counts
}

/// Generator `index`'s users of each kind: each kind's users split across generators,
/// each kind's remainder starting where the previous kind's ended, so that generators
/// differ by one user at most.
pub fn kind_users(by_kind: &[usize], index: usize, of: usize) -> Vec<usize> {
    let mut start = 0;
    by_kind
        .iter()
        .map(|&count| {
            let rotated = (index + of - start % of) % of;
            start += count;
            part(count, rotated, of)
        })
        .collect()
}

/// Generator `index`'s part of a test plan: each stage's users split.
pub fn test_plan(text: &str, index: usize, of: usize) -> Result<String, String> {
    let stages = parse_test_plan(text)?;
    Ok(stages
        .iter()
        .map(|(users, time)| format!("{},{}ms", part(*users, index, of), time.as_millis()))
        .collect::<Vec<_>>()
        .join(";"))
}

/// What generator `index` of `of` runs of `plan`'s load.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Segment {
    pub index: usize,
    pub of: usize,
    /// Closed model: users of each kind; open model: the schedule's share and workers.
    pub kind_users: Option<Vec<usize>>,
    pub test_plan: Option<String>,
    pub share: Option<Share>,
    pub workers: Option<usize>,
    /// This generator's first user number.
    pub user_offset: usize,
}

/// Generator `index`'s segment of `plan`.
pub fn segment(plan: &Plan, index: usize, of: usize) -> Result<Segment, String> {
    let load = &plan.load;
    let mut segment = Segment {
        index,
        of,
        kind_users: None,
        test_plan: None,
        share: None,
        workers: None,
        user_offset: 0,
    };
    if load.open.is_some() {
        segment.share = Some(Share {
            index: index as u64,
            of: of as u64,
        });
        // At least one worker each: the schedule's share of every generator is served.
        let workers = load.users.max(of);
        segment.workers = Some(part(workers, index, of));
        segment.user_offset = offset(workers, index, of);
    } else if let Some(text) = &load.test_plan {
        segment.test_plan = Some(test_plan(text, index, of)?);
        segment.user_offset = offset(load.users, index, of);
    } else {
        let by_kind = users_by_kind(
            &plan.kinds.iter().map(|k| k.weight).collect::<Vec<_>>(),
            load.users,
        );
        let mine = kind_users(&by_kind, index, of);
        segment.user_offset = (0..index)
            .map(|i| kind_users(&by_kind, i, of).iter().sum::<usize>())
            .sum();
        if mine.iter().all(|&n| n == 0) {
            return Err(format!(
                "{} users cannot be split over {of} generators: give each at least one (--users)",
                load.users
            ));
        }
        segment.kind_users = Some(mine);
    }
    Ok(segment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_add_up_and_differ_by_one_at_most() {
        for (total, of) in [(10, 3), (9, 3), (2, 3), (1000, 7)] {
            let parts: Vec<usize> = (0..of).map(|i| part(total, i, of)).collect();
            assert_eq!(parts.iter().sum::<usize>(), total);
            assert!(parts.iter().max().unwrap() - parts.iter().min().unwrap() <= 1);
            assert_eq!(offset(total, of - 1, of), total - parts[of - 1]);
        }
    }

    #[test]
    fn kinds_keep_their_weights_over_the_whole_run() {
        // The day scenario's 3 : 6 : 2 : 1 over 24 users and 5 generators.
        let by_kind = users_by_kind(&[3, 6, 2, 1], 24);
        assert_eq!(by_kind, [6, 12, 4, 2]);
        let per: Vec<Vec<usize>> = (0..5).map(|i| kind_users(&by_kind, i, 5)).collect();
        for (k, &count) in by_kind.iter().enumerate() {
            assert_eq!(per.iter().map(|p| p[k]).sum::<usize>(), count, "kind {k}");
        }
        let totals: Vec<usize> = per.iter().map(|p| p.iter().sum()).collect();
        assert!(
            totals.iter().max().unwrap() - totals.iter().min().unwrap() <= 1,
            "{totals:?}"
        );
        assert_eq!(users_by_kind(&[1, 1, 1], 10), [4, 3, 3]);
    }

    #[test]
    fn test_plans_split_stage_by_stage() {
        assert_eq!(
            test_plan("10,10s;10,1m;0,5s", 0, 3).unwrap(),
            "4,10000ms;4,60000ms;0,5000ms"
        );
        assert_eq!(
            test_plan("10,10s;10,1m;0,5s", 2, 3).unwrap(),
            "3,10000ms;3,60000ms;0,5000ms"
        );
    }
}

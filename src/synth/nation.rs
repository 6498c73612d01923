//! Where synthetic employees work: every province in proportion to its real civil-service size,
//! and within a province any of its villages.
//!
//! The weights are the number of PNS per province in 2023 as published by BPS from BKN data
//! (`assets/synth/province_weights.tsv`, 3.73 million PNS over 38 provinces); PPPK and non-ASN
//! staff are assumed to be spread like the PNS.

use crate::domain::{AreaCode, AreaCodeError};

const PROVINCE_WEIGHTS: &str = include_str!("../../assets/synth/province_weights.tsv");

/// The provinces with their villages and weights, ready to draw work villages from.
pub struct Nation {
    provinces: Vec<Province>,
    total_weight: u64,
}

struct Province {
    weight: u64,
    villages: Vec<AreaCode>,
}

#[derive(Debug, thiserror::Error)]
pub enum NationError {
    #[error("province {0} of the weights has no village in the area reference")]
    NoVillages(String),
    #[error(transparent)]
    Village(#[from] AreaCodeError),
}

impl Nation {
    /// Groups the reference's village codes by province; each weighted province must have villages.
    pub fn new(village_codes: impl IntoIterator<Item = String>) -> Result<Self, NationError> {
        let villages = village_codes
            .into_iter()
            .map(|code| AreaCode::parse(&code))
            .collect::<Result<Vec<_>, _>>()?;
        Self::of_villages(villages)
    }

    /// Groups villages (as the area table holds them) by province; each weighted province must
    /// have villages.
    pub fn of_villages(villages: impl IntoIterator<Item = AreaCode>) -> Result<Self, NationError> {
        let weights: Vec<(&str, u64)> = PROVINCE_WEIGHTS
            .lines()
            .filter_map(|l| {
                let (code, weight) = l.split_once('\t')?;
                Some((code.trim(), weight.trim().parse().ok()?))
            })
            .collect();
        let mut provinces: Vec<Province> = weights
            .iter()
            .map(|(_, weight)| Province {
                weight: *weight,
                villages: Vec::new(),
            })
            .collect();
        for village in villages {
            if let Some(i) = weights.iter().position(|(p, _)| village.province() == *p) {
                provinces[i].villages.push(village);
            }
        }
        for ((code, _), province) in weights.iter().zip(&mut provinces) {
            if province.villages.is_empty() {
                return Err(NationError::NoVillages(code.to_string()));
            }
            // Sorted, so that a seed gives the same nation whatever order the database returns.
            province.villages.sort_unstable();
        }
        Ok(Self {
            total_weight: provinces.iter().map(|p| p.weight).sum(),
            provinces,
        })
    }

    /// A work village: a province drawn by its weight, then one of its villages uniformly.
    pub fn village(&self, rng: &mut fastrand::Rng) -> &AreaCode {
        let (province, village) = self.draw(rng);
        &self.provinces[province].villages[village]
    }
}

impl Nation {
    /// Work villages for `employees` employees, drawn as `village` draws them, but returned as
    /// (village, how many) in village-code order: a loader that writes employees village by
    /// village appends to the village index and, since a NIK begins with its district's code,
    /// nearly appends to the NIK index too.
    pub fn allot(&self, employees: u64, rng: &mut fastrand::Rng) -> Vec<(&AreaCode, u32)> {
        let mut counts: Vec<Vec<u32>> = self
            .provinces
            .iter()
            .map(|p| vec![0; p.villages.len()])
            .collect();
        for _ in 0..employees {
            let (province, village) = self.draw(rng);
            counts[province][village] += 1;
        }
        let mut out: Vec<(&AreaCode, u32)> = self
            .provinces
            .iter()
            .zip(&counts)
            .flat_map(|(p, n)| p.villages.iter().zip(n.iter().copied()))
            .filter(|(_, n)| *n > 0)
            .collect();
        out.sort_unstable_by_key(|(code, _)| *code);
        out
    }

    /// A province by its weight, then one of its villages uniformly, as indices.
    fn draw(&self, rng: &mut fastrand::Rng) -> (usize, usize) {
        let mut n = rng.u64(0..self.total_weight);
        for (i, province) in self.provinces.iter().enumerate() {
            if n < province.weight {
                return (i, rng.usize(0..province.villages.len()));
            }
            n -= province.weight;
        }
        (self.provinces.len() - 1, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provinces_are_drawn_in_proportion_to_their_civil_servants() {
        let villages = ["35.01.01.2001", "65.01.01.2001"]
            .iter()
            .map(|s| s.to_string())
            .chain(
                PROVINCE_WEIGHTS
                    .lines()
                    .map(|l| format!("{}.99.99.9999", &l[..2])),
            );
        let nation = Nation::new(villages).unwrap();
        let mut rng = fastrand::Rng::with_seed(1);
        let (mut east_java, mut north_kalimantan) = (0, 0);
        for _ in 0..100_000 {
            match &nation.village(&mut rng)[..2] {
                "35" => east_java += 1,
                "65" => north_kalimantan += 1,
                _ => {}
            }
        }
        // 363,512 and 22,187 PNS of 3.73 million: about 9.7% and 0.6%.
        assert!((9_000..10_500).contains(&east_java), "{east_java}");
        assert!((400..800).contains(&north_kalimantan), "{north_kalimantan}");
    }

    #[test]
    fn an_allotment_lists_villages_in_code_order_and_places_everyone() {
        let villages = PROVINCE_WEIGHTS.lines().flat_map(|l| {
            [
                format!("{}.02.01.2001", &l[..2]),
                format!("{}.01.01.2001", &l[..2]),
            ]
        });
        let nation = Nation::new(villages).unwrap();
        let allotment = nation.allot(10_000, &mut fastrand::Rng::with_seed(3));
        assert!(allotment.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(
            allotment.iter().map(|(_, n)| u64::from(*n)).sum::<u64>(),
            10_000
        );
    }
}

//! RFC 6962 / RFC 9162 Merkle tree hashing, with roots and proofs assembled from the hashes of
//! complete subtrees. A complete subtree is named by its level and index: node (level, index)
//! covers the leaves `index·2^level .. (index+1)·2^level`. Such a node never changes once its last
//! leaf is appended, so it can be stored once and read forever.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// (level, index) of a complete subtree.
pub type NodeId = (u32, u64);

pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The hash of the empty tree.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two strictly smaller than `n` (n ≥ 2): where RFC 6962 splits a tree.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// A range of leaves `[start, end)` whose RFC 6962 hash a proof or root needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub start: u64,
    pub end: u64,
}

impl Range {
    /// The complete subtrees the range is made of, left to right. Every range RFC 6962 asks for
    /// starts at a multiple of the largest power of two below its size, so the pieces are aligned.
    fn pieces(self, out: &mut Vec<NodeId>) {
        let mut start = self.start;
        let mut size = self.end - self.start;
        while size > 0 {
            let piece = if size.is_power_of_two() {
                size
            } else {
                split(size)
            };
            let level = piece.trailing_zeros();
            debug_assert_eq!(start % piece, 0, "unaligned subtree");
            out.push((level, start >> level));
            start += piece;
            size -= piece;
        }
    }

    /// MTH over the range from the hashes of its pieces: the right-most pieces fold first.
    fn hash(self, nodes: &HashMap<NodeId, Hash>) -> Option<Hash> {
        let mut ids = Vec::new();
        self.pieces(&mut ids);
        let mut iter = ids.iter().rev();
        let mut acc = *nodes.get(iter.next()?)?;
        for id in iter {
            acc = node_hash(nodes.get(id)?, &acc);
        }
        Some(acc)
    }
}

/// The ranges whose hashes make up the inclusion proof of leaf `index` in a tree of `size`
/// leaves, in proof order (RFC 6962 §2.1.1 PATH).
pub fn inclusion_ranges(index: u64, size: u64) -> Vec<Range> {
    fn path(m: u64, start: u64, end: u64, out: &mut Vec<Range>) {
        let n = end - start;
        if n <= 1 {
            return;
        }
        let k = split(n);
        if m < k {
            path(m, start, start + k, out);
            out.push(Range {
                start: start + k,
                end,
            });
        } else {
            path(m - k, start + k, end, out);
            out.push(Range {
                start,
                end: start + k,
            });
        }
    }
    let mut out = Vec::new();
    if index < size {
        path(index, 0, size, &mut out);
    }
    out
}

/// The ranges whose hashes make up the consistency proof from `first` to `second` leaves
/// (RFC 6962 §2.1.2 PROOF), for 0 < first ≤ second.
pub fn consistency_ranges(first: u64, second: u64) -> Vec<Range> {
    fn subproof(m: u64, start: u64, end: u64, whole: bool, out: &mut Vec<Range>) {
        let n = end - start;
        if m == n {
            if !whole {
                out.push(Range { start, end });
            }
            return;
        }
        let k = split(n);
        if m <= k {
            subproof(m, start, start + k, whole, out);
            out.push(Range {
                start: start + k,
                end,
            });
        } else {
            subproof(m - k, start + k, end, false, out);
            out.push(Range {
                start,
                end: start + k,
            });
        }
    }
    let mut out = Vec::new();
    if 0 < first && first < second {
        subproof(first, 0, second, true, &mut out);
    }
    out
}

/// Every stored node the ranges need: what one batched read must fetch.
pub fn nodes_for(ranges: &[Range]) -> Vec<NodeId> {
    let mut ids = Vec::new();
    for r in ranges {
        r.pieces(&mut ids);
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The hashes of the ranges, or `None` if a node is missing from `nodes`.
pub fn hashes_of(ranges: &[Range], nodes: &HashMap<NodeId, Hash>) -> Option<Vec<Hash>> {
    ranges.iter().map(|r| r.hash(nodes)).collect()
}

/// The root of a tree of `size` leaves (`size` ≥ 1) from its stored nodes.
pub fn root_range(size: u64) -> Range {
    Range {
        start: 0,
        end: size,
    }
}

pub fn root_of(size: u64, nodes: &HashMap<NodeId, Hash>) -> Option<Hash> {
    if size == 0 {
        return Some(empty_root());
    }
    root_range(size).hash(nodes)
}

/// Checks an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && &r == root
}

/// Every complete subtree of a list of leaves, level by level: how an audit rebuilds the tree
/// from the rows themselves.
pub struct FullTree {
    levels: Vec<Vec<Hash>>,
}

impl FullTree {
    pub fn new(leaves: Vec<Hash>) -> Self {
        let mut levels = vec![leaves];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let below = levels.last().expect("a level");
            let above = below
                .chunks_exact(2)
                .map(|pair| node_hash(&pair[0], &pair[1]))
                .collect();
            levels.push(above);
        }
        Self { levels }
    }

    pub fn size(&self) -> u64 {
        self.levels[0].len() as u64
    }

    pub fn node(&self, (level, index): NodeId) -> Option<Hash> {
        self.levels
            .get(level as usize)?
            .get(usize::try_from(index).ok()?)
            .copied()
    }

    /// The nodes a set of ranges needs, as a map for [`hashes_of`] and [`root_of`].
    pub fn nodes(&self, ids: &[NodeId]) -> HashMap<NodeId, Hash> {
        ids.iter()
            .filter_map(|&id| Some((id, self.node(id)?)))
            .collect()
    }

    pub fn root(&self, size: u64) -> Option<Hash> {
        if size > self.size() {
            return None;
        }
        let ids = nodes_for(&[root_range(size.max(1))]);
        root_of(size, &self.nodes(&ids))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MTH straight from RFC 6962's recursive definition.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&(i as u32).to_be_bytes()))
            .collect()
    }

    #[test]
    fn roots_and_proofs_from_complete_subtrees_agree_with_the_recursive_definition() {
        let all = leaves(40);
        let tree = FullTree::new(all.clone());
        for size in 1..=40u64 {
            let root = tree.root(size).unwrap();
            assert_eq!(root, mth(&all[..size as usize]), "root of {size}");
            for index in 0..size {
                let ranges = inclusion_ranges(index, size);
                let proof = hashes_of(&ranges, &tree.nodes(&nodes_for(&ranges))).unwrap();
                assert!(verify_inclusion(
                    index,
                    size,
                    &all[index as usize],
                    &proof,
                    &root
                ));
                assert!(!verify_inclusion(
                    index,
                    size,
                    &leaf_hash(b"other"),
                    &proof,
                    &root
                ));
            }
            for first in 1..size {
                let ranges = consistency_ranges(first, size);
                let proof = hashes_of(&ranges, &tree.nodes(&nodes_for(&ranges))).unwrap();
                assert!(!proof.is_empty());
                assert!(proof.len() <= 2 * 64);
            }
        }
    }
}

//! The query strings of `/log/proof/inclusion` and `/log/proof/consistency`, as actix decodes them,
//! then the proof arithmetic on whatever sizes pass the checks: no panic, no overflow, and every
//! inclusion proof of a small tree verifies against its root.
#![no_main]

use ikrar::transparency::merkle::{self, FullTree};
use ikrar::web::log::{
    consistency_parameters, inclusion_parameters, ConsistencyQuery, EntryRef, InclusionQuery,
};
use libfuzzer_sys::fuzz_target;

/// Trees up to this size are built in memory and their proofs checked.
const SMALL: u64 = 300;

fuzz_target!(|query: &[u8]| {
    if let Ok(q) = serde_urlencoded::from_bytes::<InclusionQuery>(query) {
        if let Ok(p) = inclusion_parameters(&q) {
            if let (EntryRef::Index(index), Some(size)) = (p.entry, p.size) {
                if index < size {
                    let ranges = merkle::inclusion_ranges(index, size);
                    let _ = merkle::nodes_for(&ranges);
                    if size <= SMALL {
                        let leaves = (0..size)
                            .map(|i| merkle::leaf_hash(&i.to_be_bytes()))
                            .collect();
                        let tree = FullTree::new(leaves);
                        let nodes = tree.nodes(&merkle::nodes_for(&ranges));
                        let proof =
                            merkle::hashes_of(&ranges, &nodes).expect("a full tree has every node");
                        let root = tree.root(size).expect("the tree has this size");
                        let leaf = merkle::leaf_hash(&index.to_be_bytes());
                        assert!(merkle::verify_inclusion(index, size, &leaf, &proof, &root));
                    }
                }
            }
        }
    }
    if let Ok(q) = serde_urlencoded::from_bytes::<ConsistencyQuery>(query) {
        if let Ok((first, second)) = consistency_parameters(&q) {
            let ranges = merkle::consistency_ranges(first, second);
            let _ = merkle::nodes_for(&ranges);
        }
    }
});

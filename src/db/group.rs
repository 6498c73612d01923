//! What the pieces of work of one group commit share (`Db::write_grouped`).

use std::any::Any;

use super::coverage::CountDeltas;
use super::DbConnection;

/// Work that pieces of a batch leave to its end, to be done once for all of them in the batch's
/// transaction: after every piece has run, before the coverage counts are written and the
/// commit. A piece adds to a tail as its last step, once nothing of it can fail any more: if it
/// failed afterwards, what it added here would still be done.
pub trait Tail: Any + Send {
    /// Does the work; an error fails the whole batch, as a failed commit would.
    fn finish(
        self: Box<Self>,
        conn: &mut DbConnection,
        counts: &mut CountDeltas,
    ) -> diesel::QueryResult<()>;
}

/// One piece of a batch's view of it: the coverage counts it adds (kept apart, so that a piece
/// that fails adds none) and the batch's tails.
pub struct Group<'a> {
    pub counts: CountDeltas,
    tails: &'a mut Tails,
}

impl Group<'_> {
    /// The batch's tail of this kind, begun empty by the first piece that asks for it.
    pub fn tail<T: Tail + Default>(&mut self) -> &mut T {
        let at = match self
            .tails
            .0
            .iter()
            .position(|t| (t.as_ref() as &dyn Any).is::<T>())
        {
            Some(at) => at,
            None => {
                self.tails.0.push(Box::new(T::default()));
                self.tails.0.len() - 1
            }
        };
        (self.tails.0[at].as_mut() as &mut dyn Any)
            .downcast_mut::<T>()
            .expect("the tail at this place is of this kind")
    }
}

/// A batch's tails, in the order they were begun.
#[derive(Default)]
pub(super) struct Tails(Vec<Box<dyn Tail>>);

impl Tails {
    pub(super) fn group(&mut self) -> Group<'_> {
        Group {
            counts: CountDeltas::default(),
            tails: self,
        }
    }

    pub(super) fn finish(
        self,
        conn: &mut DbConnection,
        counts: &mut CountDeltas,
    ) -> diesel::QueryResult<()> {
        for tail in self.0 {
            tail.finish(conn, counts)?;
        }
        Ok(())
    }
}

//! A slab: values addressed by a `u32` slot, stored in fixed-size chunks so
//! that growing never copies or doubles what is already there (a `Vec` of
//! 1M objects would reallocate to 2M and briefly hold both). Freed slots are
//! reused, most recently freed first. Slots are what the other indexes of a
//! collection store instead of ids: 4 bytes each.

/// A chunked slab of `T` with `2^BITS` values per chunk.
pub struct Slab<T, const BITS: u32> {
    chunks: Vec<Box<[Option<T>]>>,
    free: Vec<u32>,
    len: usize,
}

impl<T, const BITS: u32> Default for Slab<T, BITS> {
    fn default() -> Self {
        Slab {
            chunks: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }
}

impl<T, const BITS: u32> Slab<T, BITS> {
    const MASK: u32 = (1 << BITS) - 1;

    /// Number of values stored.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Stores `value`, returning its slot.
    pub fn insert(&mut self, value: T) -> u32 {
        self.len += 1;
        if let Some(slot) = self.free.pop() {
            *self.cell(slot) = Some(value);
            return slot;
        }
        let slot = u32::try_from(self.chunks.len() << BITS).expect("fewer than 2^32 slots");
        let mut chunk: Box<[Option<T>]> = (0..1usize << BITS).map(|_| None).collect();
        chunk[0] = Some(value);
        self.chunks.push(chunk);
        // The rest of the new chunk is free, lowest slot popped first.
        self.free.extend((slot + 1..slot + (1 << BITS)).rev());
        slot
    }

    /// Removes the value at `slot` (which must hold one).
    pub fn remove(&mut self, slot: u32) -> T {
        let value = self.cell(slot).take().expect("slab slot in use");
        self.len -= 1;
        self.free.push(slot);
        value
    }

    fn cell(&mut self, slot: u32) -> &mut Option<T> {
        &mut self.chunks[(slot >> BITS) as usize][(slot & Self::MASK) as usize]
    }

    /// The value at `slot`, `None` if the slot is free or was never used.
    pub fn try_get(&self, slot: u32) -> Option<&T> {
        self.chunks
            .get((slot >> BITS) as usize)?
            .get((slot & Self::MASK) as usize)?
            .as_ref()
    }

    /// The value at `slot` (which must hold one).
    #[inline]
    pub fn get(&self, slot: u32) -> &T {
        self.chunks[(slot >> BITS) as usize][(slot & Self::MASK) as usize]
            .as_ref()
            .expect("slab slot in use")
    }

    /// Asks the CPU to bring `slot`'s cell into the cache, without reading
    /// it: a walk that will read it soon overlaps the miss with other work.
    #[inline]
    pub fn prefetch(&self, slot: u32) {
        self.prefetch_lines(slot, 1);
    }

    /// [`Slab::prefetch`] of the first `lines` cache lines of the cell
    /// (at most the cell's size).
    #[inline]
    pub fn prefetch_lines(&self, slot: u32, lines: usize) {
        let chunk = self.chunks.get((slot >> BITS) as usize);
        let Some(cell) = chunk.and_then(|c| c.get((slot & Self::MASK) as usize)) else {
            return;
        };
        let lines = lines.min(std::mem::size_of_val(cell).div_ceil(64));
        #[cfg(target_arch = "x86_64")]
        for line in 0..lines {
            // SAFETY: a prefetch is a hint; it neither faults nor reads
            // memory as far as the program can tell, and the address is
            // inside the live `cell`.
            unsafe {
                use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
                let at = std::ptr::from_ref(cell).cast::<i8>().add(line * 64);
                _mm_prefetch::<_MM_HINT_T0>(at);
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (cell, lines);
    }

    /// The value at `slot` (which must hold one).
    #[inline]
    pub fn get_mut(&mut self, slot: u32) -> &mut T {
        self.cell(slot).as_mut().expect("slab slot in use")
    }

    /// Every stored value with its slot, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.chunks
            .iter()
            .flat_map(|c| c.iter())
            .enumerate()
            .filter_map(|(i, v)| v.as_ref().map(|v| (i as u32, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused_and_chunks_fixed() {
        let mut s: Slab<u64, 2> = Slab::default();
        let slots: Vec<u32> = (0..6).map(|v| s.insert(v)).collect();
        assert_eq!(slots, [0, 1, 2, 3, 4, 5]);
        assert_eq!(s.remove(2), 2);
        assert_eq!(s.try_get(2), None);
        assert_eq!(s.insert(9), 2);
        assert_eq!((*s.get(2), s.len()), (9, 6));
        *s.get_mut(5) += 1;
        let all: Vec<_> = s.iter().map(|(i, v)| (i, *v)).collect();
        assert_eq!(all, [(0, 0), (1, 1), (2, 9), (3, 3), (4, 4), (5, 6)]);
        assert_eq!(s.try_get(7), None);
        assert_eq!(s.try_get(100), None);
    }
}

//! The argument vector of one command, stored in one reusable buffer so that
//! parsing a pipelined batch allocates nothing once the buffers are warm.

/// Arguments of one command: `args.get(0)` is the command name.
#[derive(Default, Clone)]
pub struct Args {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Args {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds from a list of arguments (tests, scripts, AOF replay).
    pub fn from_slices<T: AsRef<[u8]>>(items: &[T]) -> Self {
        let mut a = Args::new();
        for it in items {
            a.push(it.as_ref());
        }
        a
    }

    pub fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }

    pub fn push(&mut self, arg: &[u8]) {
        self.data.extend_from_slice(arg);
        self.ends.push(self.data.len());
    }

    /// Starts a new, empty argument that [`Args::extend_last`] appends to.
    pub fn push_empty(&mut self) {
        self.ends.push(self.data.len());
    }

    /// Appends bytes to the last argument.
    pub fn extend_last(&mut self, bytes: &[u8]) {
        self.data.extend_from_slice(bytes);
        if let Some(e) = self.ends.last_mut() {
            *e = self.data.len();
        }
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Total bytes of all arguments (what parsing them has to read).
    pub fn total_bytes(&self) -> usize {
        self.data.len()
    }

    pub fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.data[start..self.ends[i]]
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Removes the first `n` arguments (used by `TIMEOUT secs CMD ...`).
    pub fn drop_front(&mut self, n: usize) {
        let n = n.min(self.len());
        if n == 0 {
            return;
        }
        let cut = self.ends[n - 1];
        self.data.drain(..cut);
        self.ends.drain(..n);
        for e in &mut self.ends {
            *e -= cut;
        }
    }

    /// Joins the first two arguments into one, `sep` between them: Tile38
    /// rewrites `CONFIG GET …` into the command `CONFIG GET` this way.
    /// Nothing happens with fewer than two arguments.
    pub fn join_front(&mut self, sep: u8) {
        if self.len() < 2 {
            return;
        }
        self.data.insert(self.ends[0], sep);
        self.ends.remove(0);
        for e in &mut self.ends {
            *e += 1;
        }
    }

    /// The arguments as owned strings (lossy), for logging and tests.
    pub fn to_strings(&self) -> Vec<String> {
        self.iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    }
}

impl std::fmt::Debug for Args {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.to_strings()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_front_merges_the_first_two() {
        let mut a = Args::from_slices(&["CONFIG", "GET", "maxmemory"]);
        a.join_front(b' ');
        assert_eq!(a.to_strings(), ["CONFIG GET", "maxmemory"]);
        let mut one = Args::from_slices(&["CONFIG"]);
        one.join_front(b' ');
        assert_eq!(one.to_strings(), ["CONFIG"]);
    }
}

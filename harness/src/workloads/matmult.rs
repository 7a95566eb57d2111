//! Port of Go's BenchmarkMatmult (runtime/proc_test.go): a recursive fork-join matrix product.
//! The larger of the i and j ranges is halved, one half in a new goroutine that signals a
//! channel when done; the k range is halved in sequence (its halves write the same cells);
//! blocks under the threshold are multiplied directly. N is about the cube of the side.

use super::B;
use schedcore::{Chan, Scheduler};

/// BenchmarkMatmult's threshold: blocks of at most 8 along every axis are multiplied directly.
pub const THRESHOLD: usize = 8;

/// Three n-by-n matrices, row-major, shared by the goroutines of one product.
#[derive(Clone, Copy)]
pub struct Matrices {
    a: *const f64,
    b: *const f64,
    c: *mut f64,
    n: usize,
}

// SAFETY: the pointers stay valid for the whole product (the owner waits for every goroutine
// before dropping the buffers); `a` and `b` are only read, and the recursion hands disjoint
// (i, j) blocks of `c` to goroutines that run at the same time (k halves run in sequence).
unsafe impl Send for Matrices {}
// SAFETY: as above; rayon's join shares the value between two threads by reference.
unsafe impl Sync for Matrices {}

/// The owner of the three buffers.
pub struct Product {
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
    n: usize,
}

impl Product {
    /// makeMatrix twice (`m[i][j] = i*n + j`) and a zero result, for a side fit for `ops`
    /// operations: Go's `cbrt(b.N) + 1`.
    pub fn for_ops(ops: u64) -> Product {
        let n = (ops as f64).cbrt() as usize + 1;
        let m: Vec<f64> = (0..n * n).map(|x| x as f64).collect();
        Product {
            a: m.clone(),
            b: m,
            c: vec![0.0; n * n],
            n,
        }
    }

    pub fn side(&self) -> usize {
        self.n
    }

    /// The shared view the recursion works on.
    pub fn matrices(&mut self) -> Matrices {
        Matrices {
            a: self.a.as_ptr(),
            b: self.b.as_ptr(),
            c: self.c.as_mut_ptr(),
            n: self.n,
        }
    }

    /// Checks C = A*B against its closed form: with a_ik = i*n + k and b_kj = k*n + j,
    /// c_ij = i*n^2*S1 + i*j*n^2 + n*S2 + j*S1 where S1 = sum k, S2 = sum k^2 over 0..n.
    pub fn check(&self) -> Result<(), String> {
        let n = self.n as f64;
        let s1 = n * (n - 1.0) / 2.0;
        let s2 = (n - 1.0) * n * (2.0 * n - 1.0) / 6.0;
        for i in 0..self.n {
            for j in 0..self.n {
                let (fi, fj) = (i as f64, j as f64);
                let want = fi * n * n * s1 + fi * fj * n * n + n * s2 + fj * s1;
                let got = self.c[i * self.n + j];
                if (got - want).abs() > want.abs() * 1e-9 {
                    return Err(format!("matmult: c[{i}][{j}] = {got}, want {want}"));
                }
            }
        }
        Ok(())
    }
}

/// The ranges of one call: rows i0..i1, columns j0..j1, the sum over k0..k1.
#[derive(Clone, Copy, Debug)]
pub struct Block {
    pub i: (usize, usize),
    pub j: (usize, usize),
    pub k: (usize, usize),
}

/// How a block is split, the same for every runtime (Go's three cases and the leaf).
pub enum Split {
    /// Two halves that write disjoint cells: run them in parallel.
    Parallel(Block, Block),
    /// Two halves over k that write the same cells: run them one after the other.
    Sequential(Block, Block),
    /// Small enough: multiply directly.
    Leaf,
}

impl Block {
    pub fn whole(n: usize) -> Block {
        Block {
            i: (0, n),
            j: (0, n),
            k: (0, n),
        }
    }

    /// matmult's choice of axis.
    pub fn split(self, threshold: usize) -> Split {
        let (di, dj, dk) = (
            self.i.1 - self.i.0,
            self.j.1 - self.j.0,
            self.k.1 - self.k.0,
        );
        if di >= dj && di >= dk && di >= threshold {
            let mi = self.i.0 + di / 2;
            Split::Parallel(
                Block {
                    i: (self.i.0, mi),
                    ..self
                },
                Block {
                    i: (mi, self.i.1),
                    ..self
                },
            )
        } else if dj >= dk && dj >= threshold {
            let mj = self.j.0 + dj / 2;
            Split::Parallel(
                Block {
                    j: (self.j.0, mj),
                    ..self
                },
                Block {
                    j: (mj, self.j.1),
                    ..self
                },
            )
        } else if dk >= threshold {
            let mk = self.k.0 + dk / 2;
            Split::Sequential(
                Block {
                    k: (self.k.0, mk),
                    ..self
                },
                Block {
                    k: (mk, self.k.1),
                    ..self
                },
            )
        } else {
            Split::Leaf
        }
    }
}

impl Matrices {
    /// The leaf: `C[i][j] += A[i][k] * B[k][j]` over the block.
    pub fn multiply(&self, blk: Block) {
        let n = self.n;
        for i in blk.i.0..blk.i.1 {
            for j in blk.j.0..blk.j.1 {
                // SAFETY: indices are below n*n; this block's (i, j) cells are written by
                // this call alone while it runs (see the Send impl).
                unsafe {
                    let mut sum = *self.c.add(i * n + j);
                    for k in blk.k.0..blk.k.1 {
                        sum += *self.a.add(i * n + k) * *self.b.add(k * n + j);
                    }
                    *self.c.add(i * n + j) = sum;
                }
            }
        }
    }
}

/// Go's matmult on goroutines: the first parallel half in a new goroutine that signals a
/// buffered channel of one, the second in this one, then wait.
fn matmult<S: Scheduler>(done: Option<Chan<(), S>>, m: Matrices, blk: Block) {
    match blk.split(THRESHOLD) {
        Split::Parallel(x, y) => {
            let done1 = Chan::<(), S>::new(1);
            let d = done1.clone();
            S::go(move || matmult::<S>(Some(d), m, x));
            matmult::<S>(None, m, y);
            done1.recv();
        }
        Split::Sequential(x, y) => {
            matmult::<S>(None, m, x);
            matmult::<S>(None, m, y);
        }
        Split::Leaf => m.multiply(blk),
    }
    if let Some(d) = done {
        d.send(());
    }
}

/// BenchmarkMatmult: the matrices are made with the timer stopped, the product is timed, and
/// the result is checked afterwards.
pub fn matmult_bench<S: Scheduler>(b: &mut B) {
    b.stop_timer();
    let mut p = Product::for_ops(b.n);
    let m = p.matrices();
    b.start_timer();
    matmult::<S>(None, m, Block::whole(p.side()));
    b.stop_timer();
    if let Err(e) = p.check() {
        panic!("{e}");
    }
}

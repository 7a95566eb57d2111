//! The rule on thread-locals, enforced: goroutines migrate between threads, and a compiler may
//! keep a thread-local's address in a register across a goroutine switch (it treats the
//! thread pointer as a constant), so a goroutine that reads one directly after moving reads
//! the old thread's. Per-M state therefore lives in the M (as Go kept `m->locks`), and the few
//! thread-locals of the project are each read only through an `#[inline(never)]` function,
//! which reads the slot of the thread it runs on at every call.
//!
//! This test scans every crate's sources for thread-locals (`thread_local!`, `#[thread_local]`,
//! `thread_rng`) and holds each to the list below: where it is, the function that reads it,
//! and that this function is `#[inline(never)]`. A new thread-local fails here until it is
//! listed with its reader, or with the reason no goroutine can carry it across a switch.

use std::path::{Path, PathBuf};

/// A sanctioned thread-local: its file (from the workspace root), how many declarations the
/// file has, and for each the `#[inline(never)]` function that reads it (None: with a reason).
struct Allowed {
    file: &'static str,
    declarations: usize,
    readers: &'static [&'static str],
    why: &'static str,
}

const ALLOWED: &[Allowed] = &[
    Allowed {
        file: "schedcore/src/tls.rs",
        declarations: 1,
        readers: &["current"],
        why: "each generation's current-M slot (m_slot!), read by current()",
    },
    Allowed {
        file: "schedcore/src/lock.rs",
        declarations: 1,
        readers: &["m_locks"],
        why: "the current M's lock count (MLocks), read by m_locks()",
    },
    Allowed {
        file: "sched2014/src/preempt.rs",
        declarations: 1,
        readers: &["guard_slot"],
        why: "the running goroutine's stackguard0 (Go's g register), read by guard_slot()",
    },
    Allowed {
        file: "sched2011/src/tests.rs",
        declarations: 1,
        readers: &["newosproc_refuses"],
        why: "a unit test's switch that makes newosproc refuse M0's thread, read by newosproc_refuses()",
    },
    Allowed {
        file: "harness/src/subjects/peers/floor.rs",
        declarations: 1,
        readers: &[],
        why: "the floor runs its coroutines on the thread that made them: none ever migrates",
    },
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "target") {
                sources(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// How many thread-locals a file declares or uses (comments and this test's own text aside).
fn thread_locals(text: &str) -> usize {
    text.lines()
        .map(|l| l.trim_start())
        .filter(|l| !l.starts_with("//"))
        .filter(|l| {
            l.contains("thread_local!")
                || l.contains("#[thread_local]")
                || l.contains("thread_rng(")
        })
        .count()
}

/// Whether `text` defines `fn name` right under an `#[inline(never)]` (other attributes and
/// doc comments may stand between).
fn reader_is_inline_never(text: &str, name: &str) -> bool {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    lines.iter().enumerate().any(|(i, l)| {
        let defines = l
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .collect::<Vec<_>>()
            .windows(2)
            .any(|w| w[0] == "fn" && w[1] == name);
        defines
            && lines[..i]
                .iter()
                .rev()
                .take_while(|p| p.starts_with("#[") || p.starts_with("///"))
                .any(|p| *p == "#[inline(never)]")
    })
}

#[test]
fn every_thread_local_is_listed_and_read_afresh() {
    let root = workspace();
    let mut files = Vec::new();
    for krate in [
        "schedcore",
        "sched2011",
        "sched2013",
        "sched2014",
        "harness",
    ] {
        sources(&root.join(krate).join("src"), &mut files);
    }
    assert!(
        files.len() > 50,
        "found only {} source files under {}",
        files.len(),
        root.display()
    );
    let mut problems = Vec::new();
    for f in &files {
        let rel = f
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(f).unwrap();
        let n = thread_locals(&text);
        match ALLOWED.iter().find(|a| a.file == rel) {
            None if n > 0 => problems.push(format!(
                "{rel}: {n} thread-local(s) not in this test's list: per-M state belongs in the \
                 M; a thread-local must be read through an #[inline(never)] function"
            )),
            None => {}
            Some(a) => {
                if n != a.declarations {
                    problems.push(format!(
                        "{rel}: {n} thread-local(s), the list says {} ({})",
                        a.declarations, a.why
                    ));
                }
                for r in a.readers {
                    if !reader_is_inline_never(&text, r) {
                        problems.push(format!("{rel}: reader {r}() is not #[inline(never)]"));
                    }
                }
            }
        }
    }
    for a in ALLOWED {
        if !files
            .iter()
            .any(|f| f.strip_prefix(&root).unwrap().to_string_lossy() == a.file)
        {
            problems.push(format!("{}: listed but not found", a.file));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_scan_sees_what_it_should() {
    assert_eq!(thread_locals("thread_local! {\n// thread_local!\n"), 1);
    let text =
        "/// Reads it.\n#[inline(never)]\npub fn m_locks() -> u32 { 0 }\n#[inline]\nfn other() {}";
    assert!(reader_is_inline_never(text, "m_locks"));
    assert!(!reader_is_inline_never(text, "other"));
    assert!(!reader_is_inline_never(text, "missing"));
}

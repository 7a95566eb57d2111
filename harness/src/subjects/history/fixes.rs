//! The host-side changes an unpacked tree needs before it builds on a current Debian (gcc 12,
//! bison 3, no Mercurial), each the lab's own edit of the fewest lines it must touch, checked:
//! a line that is not where the fix expects it is an error naming the file, never a silent
//! skip. The July-2011 trees also get two stand-ins on PATH (`hg`, and a C compiler wrapper);
//! they live beside the tree, outside it.

use super::release::{Fix, Release};
use super::HistoryError;
use std::path::{Path, PathBuf};

/// Applies the release's fixes to the tree at `go` (the unpacked `go/`).
pub fn apply(release: &Release, go: &Path) -> Result<(), HistoryError> {
    for fix in release.fixes {
        match fix {
            Fix::DistNoWerror => edit(
                &go.join("src/cmd/dist/build.c"),
                *fix,
                // gcc 12 warns where the gcc of 2012 did not; a warning must not stop the build.
                &[("\"-Werror\",", "\"-Wno-error\",")],
            )?,
            Fix::BisonErrors3 => edit(&go.join("src/cmd/gc/bisonerrors"), *fix, BISON3)?,
            Fix::Cl4723042Tests => add_cl4723042_tests(go)?,
        }
    }
    Ok(())
}

/// bison 3 writes `State N` where bison 2 wrote `state N`, and `%empty` for a rule with no
/// symbols (one field, where bison 2 wrote the three words of `/* empty */`).
const BISON3: &[(&str, &str)] = &[
    (
        "bison && /^(Terminals|state 0)/",
        "bison && /^(Terminals|[Ss]tate 0)/",
    ),
    ("bison && /^state 0/", "bison && /^[Ss]tate 0/"),
    ("states && /^state /", "states && /^[Ss]tate /"),
    (
        "rulesize[$1] = NF-2\n",
        "rulesize[$1] = ($3 == \"%empty\") ? 0 : NF-2\n",
    ),
];

/// Replaces each `from` (which must occur exactly once) by its `to` in `path`.
fn edit(path: &Path, fix: Fix, pairs: &[(&str, &str)]) -> Result<(), HistoryError> {
    let mut text = read(path)?;
    for (from, to) in pairs {
        let n = text.matches(from).count();
        if n != 1 {
            return Err(HistoryError::FixFailed {
                fix,
                path: path.to_path_buf(),
                why: format!("expected {from:?} once, found it {n} times"),
            });
        }
        text = text.replacen(from, to, 1);
    }
    write(path, &text)
}

/// What the lab adds to the `before` tree's `export_test.go` (package runtime): the two
/// runtime functions the benchmarks call, exported to the test package, as CL 4723042 did.
const EXPORT_SYSCALL: &str = "
// Added by the lab, as CL 4723042 did: the syscall hooks for BenchmarkSyscall.
func entersyscall()
func exitsyscall()

var Entersyscall = entersyscall
var Exitsyscall = exitsyscall
";

/// What the lab adds to the `before` tree's `proc_test.go`: the CL's two benchmarks, statement
/// for statement (a thousand empty syscalls, or syscalls around 100 steps of local work,
/// between Goscheds, on GOMAXPROCS goroutines sharing one counter), so that the tree before the
/// CL runs the very loop the CL's tree runs and the two compile alike. (The code is the CL's,
/// by the Go authors, under the BSD licence of the file it is added to: a fair old-against-new
/// comparison needs the same statements on both sides.)
const BENCH_SYSCALL: &str = "
// Added by the lab: CL 4723042's benchmarks, so that the tree before it runs them too.

func BenchmarkSyscall(b *testing.B) {
	const CallsPerSched = 1000
	procs := runtime.GOMAXPROCS(-1)
	N := int32(b.N / CallsPerSched)
	c := make(chan bool, procs)
	for p := 0; p < procs; p++ {
		go func() {
			for atomic.AddInt32(&N, -1) >= 0 {
				runtime.Gosched()
				for g := 0; g < CallsPerSched; g++ {
					runtime.Entersyscall()
					runtime.Exitsyscall()
				}
			}
			c <- true
		}()
	}
	for p := 0; p < procs; p++ {
		<-c
	}
}

func BenchmarkSyscallWork(b *testing.B) {
	const CallsPerSched = 1000
	const LocalWork = 100
	procs := runtime.GOMAXPROCS(-1)
	N := int32(b.N / CallsPerSched)
	c := make(chan bool, procs)
	for p := 0; p < procs; p++ {
		go func() {
			foo := 42
			for atomic.AddInt32(&N, -1) >= 0 {
				runtime.Gosched()
				for g := 0; g < CallsPerSched; g++ {
					runtime.Entersyscall()
					for i := 0; i < LocalWork; i++ {
						foo *= 2
						foo /= 2
					}
					runtime.Exitsyscall()
				}
			}
			c <- foo == 42
		}()
	}
	for p := 0; p < procs; p++ {
		<-c
	}
}
";

/// [`Fix::Cl4723042Tests`]: appends the exports and the benchmarks, after checking that the
/// tree lacks them and that `proc_test.go` imports what they use.
fn add_cl4723042_tests(go: &Path) -> Result<(), HistoryError> {
    let fix = Fix::Cl4723042Tests;
    let rt = go.join("src/pkg/runtime");
    let export = rt.join("export_test.go");
    let proc_test = rt.join("proc_test.go");
    let mut e = read(&export)?;
    let mut p = read(&proc_test)?;
    let fail = |path: &Path, why: &str| HistoryError::FixFailed {
        fix,
        path: path.to_path_buf(),
        why: why.into(),
    };
    if !e.starts_with("// Copyright") || !e.contains("\npackage runtime\n") {
        return Err(fail(&export, "not the runtime's export_test.go"));
    }
    if e.contains("Entersyscall") || p.contains("BenchmarkSyscall") {
        return Err(fail(
            &proc_test,
            "the tree has the syscall benchmarks already (is it the CL's tree?)",
        ));
    }
    for import in ["\"runtime\"", "\"sync/atomic\"", "\"testing\""] {
        if !p.contains(import) {
            return Err(fail(&proc_test, &format!("it does not import {import}")));
        }
    }
    e.push_str(EXPORT_SYSCALL);
    p.push_str(BENCH_SYSCALL);
    write(&export, &e)?;
    write(&proc_test, &p)
}

/// The stand-ins the July-2011 build needs on PATH, written into `dir` (beside the tree):
/// - `hg`: `src/version.bash` asks Mercurial for the revision, and a tree from an archive has
///   no `.hg`; the stand-in answers with the tree's commit, so the toolchain's version names it;
/// - `cc`: the host C compiler as the 2011 Makefiles call it, with two flags appended: gcc 12
///   warns where gcc of 2011 did not and `quietgcc` passes `-Werror` (`-Wno-error`, last, wins),
///   and the linker `6l` defines globals in headers (`-fcommon`, gcc 10's default changed).
///
/// Returns the folder, to put first on PATH.
pub fn write_2011_shims(dir: &Path, release: &Release) -> Result<PathBuf, HistoryError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).map_err(|err| HistoryError::Io {
        what: "create",
        path: dir.to_path_buf(),
        err,
    })?;
    let short = &release.commit[..12];
    let hg = format!(
        "#!/bin/sh\n# A stand-in for Mercurial, written by the lab: the tree is {commit}.\ncase \"$1\" in\n  version) echo 'lab stand-in for hg' ;;\n  identify) echo '{short}' ;;\n  *) ;;\nesac\n",
        commit = release.commit
    );
    let cc = "#!/bin/sh\n# The host C compiler for a July-2011 Go tree, written by the lab.\nexec gcc \"$@\" -Wno-error -fcommon\n";
    for (name, text) in [("hg", hg.as_str()), ("cc", cc)] {
        let path = dir.join(name);
        write(&path, text)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).map_err(|err| {
            HistoryError::Io {
                what: "write",
                path: path.clone(),
                err,
            }
        })?;
    }
    Ok(dir.to_path_buf())
}

fn read(path: &Path) -> Result<String, HistoryError> {
    std::fs::read_to_string(path).map_err(|err| HistoryError::Io {
        what: "read",
        path: path.to_path_buf(),
        err,
    })
}

fn write(path: &Path, text: &str) -> Result<(), HistoryError> {
    std::fs::write(path, text).map_err(|err| HistoryError::Io {
        what: "write",
        path: path.to_path_buf(),
        err,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subjects::history::release::by_name;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    #[test]
    fn werror_becomes_wno_error_once() {
        let t = tree(&[(
            "src/cmd/dist/build.c",
            "static char *proto_gccargs[] = {\n\t\"-Wall\",\n\t\"-Werror\",\n\t\"-O2\",\n};\n",
        )]);
        apply(by_name("go1.1.2").unwrap(), t.path()).unwrap();
        let text = std::fs::read_to_string(t.path().join("src/cmd/dist/build.c")).unwrap();
        assert!(text.contains("\"-Wno-error\",") && !text.contains("\"-Werror\""));
        // Applied twice, the line is gone: an error naming the file, not a silent pass.
        let err = apply(by_name("go1.1.2").unwrap(), t.path()).unwrap_err();
        assert!(err.to_string().contains("build.c"), "{err}");
    }

    const BISON: &str = "bison && /^Grammar/ { grammar = 1 }\nbison && /^(Terminals|state 0)/ { grammar = 0 }\ngrammar && NF>0 {\n\trulelhs[$1] = r\n\trulesize[$1] = NF-2\n}\nbison && /^state 0/ { grammar = 0; states = 1 }\n\nstates && /^state / { state = $2 }\n";

    const EXPORT: &str =
        "// Copyright 2010 The Go Authors.\n\npackage runtime\n\nvar F64toint = f64toint\n";
    const PROC: &str =
        "package runtime_test\n\nimport (\n\t\"runtime\"\n\t\"sync/atomic\"\n\t\"testing\"\n)\n";

    #[test]
    fn the_2011_before_tree_gets_bison3_and_the_benchmarks() {
        let t = tree(&[
            ("src/cmd/gc/bisonerrors", BISON),
            ("src/pkg/runtime/export_test.go", EXPORT),
            ("src/pkg/runtime/proc_test.go", PROC),
        ]);
        apply(by_name("go2011-before").unwrap(), t.path()).unwrap();
        let bison = std::fs::read_to_string(t.path().join("src/cmd/gc/bisonerrors")).unwrap();
        assert_eq!(bison.matches("[Ss]tate").count(), 3);
        assert!(bison.contains("\"%empty\""));
        let rt = t.path().join("src/pkg/runtime");
        let e = std::fs::read_to_string(rt.join("export_test.go")).unwrap();
        assert!(e.contains("var Entersyscall = entersyscall"));
        let p = std::fs::read_to_string(rt.join("proc_test.go")).unwrap();
        assert!(p.contains("func BenchmarkSyscall(b *testing.B)"));
        assert!(p.contains("func BenchmarkSyscallWork(b *testing.B)"));
    }

    #[test]
    fn the_benchmarks_are_not_added_twice_nor_without_imports() {
        let t = tree(&[
            ("src/cmd/gc/bisonerrors", BISON),
            ("src/pkg/runtime/export_test.go", EXPORT),
            (
                "src/pkg/runtime/proc_test.go",
                "import \"testing\"\nfunc BenchmarkSyscall(b *testing.B) {}\n",
            ),
        ]);
        let err = apply(by_name("go2011-before").unwrap(), t.path()).unwrap_err();
        assert!(err.to_string().contains("already"), "{err}");
        let t = tree(&[
            ("src/cmd/gc/bisonerrors", BISON),
            ("src/pkg/runtime/export_test.go", EXPORT),
            (
                "src/pkg/runtime/proc_test.go",
                "import (\n\t\"runtime\"\n\t\"testing\"\n)\n",
            ),
        ]);
        let err = apply(by_name("go2011-before").unwrap(), t.path()).unwrap_err();
        assert!(err.to_string().contains("sync/atomic"), "{err}");
    }

    #[test]
    fn shims_are_executable_and_name_the_commit() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let r = by_name("go2011-cl").unwrap();
        let shim = write_2011_shims(&dir.path().join("shim"), r).unwrap();
        for name in ["hg", "cc"] {
            let mode = std::fs::metadata(shim.join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o111, 0o111, "{name}");
        }
        let out = std::process::Command::new(shim.join("hg"))
            .arg("identify")
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), &r.commit[..12]);
        let cc = std::fs::read_to_string(shim.join("cc")).unwrap();
        assert!(cc.contains("-Wno-error -fcommon"));
    }
}

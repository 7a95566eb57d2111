//! Tells the code whether it is compiled with frame pointers (`cfg(frame_pointers)`), which
//! `context::frozen_frame` needs to find the frames that stay still during a syscall.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(frame_pointers)");
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let flags: Vec<&str> = flags.split('\x1f').collect();
    // Both `-C force-frame-pointers=yes` (two words) and `-Cforce-frame-pointers=yes`.
    let on = flags.iter().any(|f| {
        let f = f.trim_start_matches("-C");
        matches!(
            f,
            "force-frame-pointers"
                | "force-frame-pointers=yes"
                | "force-frame-pointers=y"
                | "force-frame-pointers=on"
                | "force-frame-pointers=true"
        )
    });
    let x86_64 = std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64");
    if on && x86_64 {
        println!("cargo::rustc-cfg=frame_pointers");
    }
}

//! A goroutine's execution context: a stackful coroutine on a stack from the runtime's arena
//! with a guard page below it ([`crate::stack`]), the switch in and out of it, and the stack
//! pointer saved at every switch-out so that a collector can scan the live part of the stack.
//!
//! Go's `gogo` is [`GoContext::resume`], run on the M's own stack (g0); Go's `mcall(fn)` is
//! [`GoContext::suspend`] with a reason that g0 then acts on.

use crate::stack::{ArenaStack, Exhausted, StackArena};
use corosensei::stack::Stack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::{AtomicUsize, Ordering};

type Coro<Y> = Coroutine<(), Y, (), ArenaStack>;

/// What a resume came back with.
pub enum Switch<Y> {
    /// The goroutine suspended itself with this reason (an `mcall`).
    Yielded(Y),
    /// The goroutine's function returned (`goexit`).
    Exited,
}

/// The context of one goroutine. It lives inside the generation's `G`, which never moves.
///
/// Two parties touch it: the M that owns the G (start, resume, reset: through `&self` with
/// the caller's promise that it owns the G) and the goroutine itself while it runs on it
/// (suspend). They never overlap: the goroutine runs only inside its owner's `resume`.
pub struct GoContext<Y: 'static> {
    coro: UnsafeCell<Option<Coro<Y>>>,
    spare: UnsafeCell<Option<ArenaStack>>,
    yielder: Cell<*const Yielder<(), Y>>,
    stack_lo: Cell<usize>,
    stack_hi: Cell<usize>,
    /// The stack pointer when the goroutine last switched out or entered a syscall (0: none).
    sp: AtomicUsize,
}

impl<Y: 'static> Default for GoContext<Y> {
    fn default() -> Self {
        GoContext::new()
    }
}

/// Reads the stack pointer of the caller (close enough for scanning: at most a few words of
/// saved registers lie below it).
#[inline(always)]
pub fn current_sp() -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        let sp: usize;
        // SAFETY: reads a register into a local; no memory is touched.
        unsafe {
            std::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags))
        };
        sp
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let marker = 0u8;
        std::hint::black_box(&marker) as *const u8 as usize
    }
}

/// The frame pointer of the function this is inlined into (x86_64 with frame pointers, see
/// build.rs): the address of its saved frame pointer, above its locals and below its return
/// address. 0 where frame pointers are not kept.
#[inline(always)]
pub fn frozen_frame() -> usize {
    #[cfg(frame_pointers)]
    {
        let fp: usize;
        // SAFETY: reads a register into a local; no memory is touched.
        unsafe {
            std::arch::asm!("mov {}, rbp", out(reg) fp, options(nomem, nostack, preserves_flags))
        };
        fp
    }
    #[cfg(not(frame_pointers))]
    {
        0
    }
}

impl<Y: 'static> GoContext<Y> {
    pub const fn new() -> GoContext<Y> {
        GoContext {
            coro: UnsafeCell::new(None),
            spare: UnsafeCell::new(None),
            yielder: Cell::new(std::ptr::null()),
            stack_lo: Cell::new(0),
            stack_hi: Cell::new(0),
            sp: AtomicUsize::new(0),
        }
    }

    /// Whether a stack is cached here for reuse (Go's gfree lists keep G's with their stacks).
    ///
    /// # Safety
    /// The caller owns the G (it is not running and nobody else starts or resumes it).
    pub unsafe fn has_stack(&self) -> bool {
        (*self.spare.get()).is_some()
    }

    /// Prepares the goroutine to run `f` from its first resume, on the cached stack or on a
    /// fresh one from `stacks`. Returns whether a fresh stack had to be carved, or the limit
    /// that stopped it.
    ///
    /// # Safety
    /// The caller owns the G; the previous goroutine of this context has exited or was reset;
    /// `self` does not move until the coroutine exits or is reset; the context always takes
    /// its stacks from this one arena, which outlives every resume of the context.
    #[inline]
    pub unsafe fn start<F: FnOnce() + 'static>(
        &self,
        stacks: &StackArena,
        f: F,
    ) -> Result<bool, Exhausted> {
        let (stack, fresh) = match (*self.spare.get()).take() {
            Some(s) => (s, false),
            None => (stacks.alloc()?, true),
        };
        self.stack_hi.set(stack.base().get());
        self.stack_lo.set(stack.limit().get());
        self.sp.store(0, Ordering::Relaxed);
        let me: *const GoContext<Y> = self;
        let coro = Coroutine::with_stack(stack, move |y: &Yielder<(), Y>, ()| {
            // SAFETY: the context outlives its coroutine (the caller's promise above).
            unsafe { (*me).yielder.set(y) };
            f();
        });
        *self.coro.get() = Some(coro);
        Ok(fresh)
    }

    /// Switches to the goroutine until it suspends or exits (Go's `gogo`). On exit the stack
    /// is kept for the next `start`.
    ///
    /// # Safety
    /// The caller owns the G and the G was started and has not exited.
    #[inline]
    pub unsafe fn resume(&self) -> Switch<Y> {
        let coro = (*self.coro.get())
            .as_mut()
            .expect("resume of a goroutine that is not started");
        match coro.resume(()) {
            CoroutineResult::Yield(y) => Switch::Yielded(y),
            CoroutineResult::Return(()) => {
                let done = (*self.coro.get()).take().expect("coroutine vanished");
                *self.spare.get() = Some(done.into_stack());
                self.sp.store(0, Ordering::Relaxed);
                Switch::Exited
            }
        }
    }

    /// Switches from the running goroutine back to the M that resumed it, handing it `why`
    /// (Go's `mcall`). Returns when some M resumes the goroutine again, possibly on another
    /// thread: the caller must not hold thread-local references across this call.
    ///
    /// # Safety
    /// Called by the goroutine of this context, on its own stack.
    #[inline(never)]
    pub unsafe fn suspend(&self, why: Y) {
        self.sp.store(current_sp(), Ordering::Relaxed);
        let y = self.yielder.get();
        (*y).suspend(why);
    }

    /// Records where the collector may start scanning while the goroutine is in a syscall
    /// (Go's save of the caller's sp in entersyscall): the frame pointer of the function that
    /// called entersyscall (see [`frozen_frame`]). Everything above it (that function's return
    /// address and its callers' frames) stays still until the function returns, which Go
    /// forbids before exitsyscall; the function's own locals, which the syscall's code may
    /// still write, lie below it. Must be inlined into entersyscall's caller, through
    /// `#[inline(always)]` functions only.
    #[inline(always)]
    pub fn save_syscall_sp(&self) {
        let sp = current_sp();
        let frame = frozen_frame();
        // Without frame pointers (or outside a goroutine stack) keep the stack pointer: the
        // calling frame is then scanned too, while its code may write it.
        let at = if frame > sp && frame < self.stack_hi.get() {
            frame
        } else {
            sp
        };
        self.sp.store(at, Ordering::Relaxed);
    }

    /// The live part of the stack, `[sp, top)`, as of the last switch-out or syscall, or
    /// `None` when the goroutine has no saved state.
    pub fn live_stack(&self) -> Option<(usize, usize)> {
        let sp = self.sp.load(Ordering::Relaxed);
        let hi = self.stack_hi.get();
        (sp != 0 && sp <= hi && sp >= self.stack_lo.get()).then_some((sp, hi))
    }

    /// The whole stack's bounds `[lo, hi)` (0, 0 before the first start).
    pub fn bounds(&self) -> (usize, usize) {
        (self.stack_lo.get(), self.stack_hi.get())
    }

    /// Abandons a suspended goroutine without running it further: what is on its stack is
    /// leaked, as Go leaks the goroutines still alive when main returns. The stack is kept.
    ///
    /// # Safety
    /// The caller owns the G, which is suspended or not started, and will never resume it.
    pub unsafe fn reset(&self) {
        if let Some(mut coro) = (*self.coro.get()).take() {
            if coro.started() {
                coro.force_reset();
            } else {
                // Never ran: dropping runs the closure's destructor, which is sound.
                coro.force_unwind();
            }
            *self.spare.get() = Some(coro.into_stack());
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// What a function that makes a "syscall" leaves for the collector: the boundary saved by
    /// an inlined entersyscall, and the address of a local the syscall's code keeps writing.
    #[inline(never)]
    fn syscall_frame(ctx: &GoContext<()>) -> (usize, usize) {
        let mut local = [0usize; 8];
        ctx.save_syscall_sp();
        // The "syscall": writes its own frame while the collector may be scanning.
        for (i, w) in local.iter_mut().enumerate() {
            *w = std::hint::black_box(i);
        }
        let at = std::hint::black_box(&local) as *const _ as usize;
        (ctx.sp.load(Ordering::Relaxed), at)
    }

    /// With frame pointers (the workspace's build), the collector's start lies above the
    /// calling function's locals, so nothing it scans is written during the syscall; without
    /// them it is the stack pointer, below them (the fallback the README states).
    #[test]
    fn syscall_boundary_is_above_the_callers_locals() {
        let stacks = StackArena::new(&crate::Config::default()).unwrap();
        let ctx: Box<GoContext<()>> = Box::default();
        let p: *const GoContext<()> = &*ctx;
        let out = std::sync::Arc::new(std::sync::Mutex::new((0, 0)));
        let o = out.clone();
        // SAFETY: `ctx` is boxed (it does not move) and outlives the coroutine, which runs to
        // its end inside the resume below; the arena outlives the context.
        unsafe {
            ctx.start(&stacks, move || {
                *o.lock().unwrap() = syscall_frame(&*p);
            })
            .unwrap();
            assert!(matches!(ctx.resume(), Switch::Exited));
        }
        let (saved, local) = *out.lock().unwrap();
        if cfg!(frame_pointers) {
            assert!(
                saved > local,
                "boundary {saved:#x} not above the local {local:#x}"
            );
        } else {
            assert!(
                saved <= local,
                "stack pointer {saved:#x} above a local {local:#x}"
            );
        }
    }

    /// The workspace's own build keeps frame pointers (.cargo/config.toml), unless a RUSTFLAGS
    /// of the caller's replaced them.
    #[test]
    fn the_workspace_build_keeps_frame_pointers() {
        let expected = option_env!("RUSTFLAGS").is_none() && cfg!(target_arch = "x86_64");
        let kept = cfg!(frame_pointers);
        assert!(kept || !expected, "built without frame pointers");
    }
}

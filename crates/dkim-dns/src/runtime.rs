//! A small tokio runtime that synchronous callers hand their DNS work to.
//!
//! The command line is synchronous and checks many keys from a thread pool, while hickory is
//! asynchronous. So each DNS client here ([`super::HickoryLookup`], [`super::DnsUpdater`]) owns a
//! runtime of its own: a call runs as a task on it and the calling thread waits for the result.
//! That works from any number of threads at once, and even from async code (where `block_on`
//! would panic), at the cost of a blocked caller thread.

use std::future::Future;
use std::io;
use std::sync::mpsc::sync_channel;

use tokio::runtime::{EnterGuard, Runtime};

/// A multi-threaded tokio runtime that runs tasks for blocking callers and shuts down without
/// blocking, wherever it is dropped.
pub(crate) struct BackgroundRuntime {
    // An Option only so that Drop can take it; always Some otherwise.
    runtime: Option<Runtime>,
}

impl BackgroundRuntime {
    /// Starts `threads` worker threads named `name`, with I/O and timers enabled.
    pub(crate) fn start(threads: usize, name: &str) -> io::Result<BackgroundRuntime> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name(name)
            .enable_all()
            .build()?;
        Ok(BackgroundRuntime {
            runtime: Some(runtime),
        })
    }

    /// Enters the runtime's context, for code that spawns its tasks on "the current runtime"
    /// (hickory's connections do). The context lasts as long as the guard.
    pub(crate) fn enter(&self) -> Option<EnterGuard<'_>> {
        self.runtime.as_ref().map(Runtime::enter)
    }

    /// Runs `task` on the runtime and waits for its output; `None` if the task ended without one
    /// (it panicked, or the runtime is shutting down).
    pub(crate) fn run<T: Send + 'static>(
        &self,
        task: impl Future<Output = T> + Send + 'static,
    ) -> Option<T> {
        let runtime = self.runtime.as_ref()?;
        let (sender, receiver) = sync_channel(1);
        runtime.spawn(async move {
            // The receiver waits for this; if it is gone there is no one left to tell.
            let _ = sender.send(task.await);
        });
        receiver.recv().ok()
    }
}

impl Drop for BackgroundRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // Not the blocking shutdown of Runtime's own Drop, which panics in async code.
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_tasks_for_blocking_callers_and_drops_in_async_code() {
        let runtime = BackgroundRuntime::start(1, "test-runtime").unwrap();
        assert_eq!(runtime.run(async { 6 * 7 }), Some(42));
        assert!(runtime.enter().is_some());
        // A task that panics gives no output instead of taking the caller down.
        assert_eq!(runtime.run(async { panic!("in a task") }), None::<()>);

        let outer = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        outer.block_on(async { drop(runtime) });
    }
}

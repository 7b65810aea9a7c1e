//! A writer that hands its bytes to a thread of its own, which writes them
//! to the destination while the caller goes on formatting: on two cores a
//! large export costs the larger of formatting and the kernel's file write,
//! not their sum.

use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Bytes gathered before a block goes to the writing thread.
const BLOCK: usize = 1 << 20;

/// Blocks that may wait for the writing thread: memory stays bounded when
/// the destination is slower than the formatting.
const QUEUED_BLOCKS: usize = 4;

enum Message {
    Block(Vec<u8>),
    /// Flush the destination and say how it went.
    Flush(SyncSender<io::Result<()>>),
}

/// Writes to `W` on a background thread, in blocks of about 1 MiB.
///
/// Errors of the destination come back on a later `write`, on `flush` or
/// on [`into_inner`](Self::into_inner), which also waits for every byte to
/// be written; dropping the writer without it waits too, but loses the
/// error.
pub struct WriteBehind<W: Write + Send + 'static> {
    block: Vec<u8>,
    to_thread: Option<SyncSender<Message>>,
    /// Written blocks coming back for reuse.
    spare: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<io::Result<W>>>,
}

impl<W: Write + Send + 'static> WriteBehind<W> {
    /// Starts the writing thread for `destination`.
    pub fn new(mut destination: W) -> io::Result<Self> {
        let (to_thread, from_caller) = mpsc::sync_channel::<Message>(QUEUED_BLOCKS);
        let (give_back, spare) = mpsc::sync_channel::<Vec<u8>>(QUEUED_BLOCKS + 1);
        let thread = std::thread::Builder::new()
            .name("write-behind".into())
            .spawn(move || {
                for message in from_caller {
                    match message {
                        Message::Block(mut block) => {
                            destination.write_all(&block)?;
                            block.clear();
                            let _ = give_back.try_send(block);
                        }
                        Message::Flush(reply) => {
                            let result = destination.flush();
                            let failed = result
                                .as_ref()
                                .err()
                                .map(|e| io::Error::new(e.kind(), e.to_string()));
                            let _ = reply.send(result);
                            if let Some(e) = failed {
                                return Err(e);
                            }
                        }
                    }
                }
                Ok(destination)
            })?;
        Ok(WriteBehind {
            block: Vec::with_capacity(BLOCK),
            to_thread: Some(to_thread),
            spare,
            thread: Some(thread),
        })
    }

    /// Writes what is left, waits for the thread and gives the destination
    /// back (not flushed), or the first error writing it.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.send_block()?;
        self.finish_thread()
    }

    /// Hands the current block to the thread.
    fn send_block(&mut self) -> io::Result<()> {
        if self.block.is_empty() {
            return Ok(());
        }
        let next = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BLOCK));
        let full = std::mem::replace(&mut self.block, next);
        self.send(Message::Block(full))
    }

    fn send(&mut self, message: Message) -> io::Result<()> {
        let sent = match &self.to_thread {
            Some(to_thread) => to_thread.send(message).is_ok(),
            None => false,
        };
        if sent {
            Ok(())
        } else {
            // The thread stopped on an error: that error is the answer.
            Err(self.finish_thread().err().unwrap_or_else(stopped))
        }
    }

    /// Closes the channel and joins the thread. A panic of the destination
    /// becomes an error rather than a second panic, which would abort the
    /// process if the writer is dropped while the caller unwinds.
    fn finish_thread(&mut self) -> io::Result<W> {
        self.to_thread = None;
        match self.thread.take() {
            Some(thread) => thread.join().unwrap_or_else(|panic| {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "no message".into());
                Err(io::Error::other(format!(
                    "the writing thread panicked: {message}"
                )))
            }),
            None => Err(stopped()),
        }
    }
}

fn stopped() -> io::Error {
    io::Error::other("the writing thread has already stopped")
}

impl<W: Write + Send + 'static> Write for WriteBehind<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.block.extend_from_slice(bytes);
        if self.block.len() >= BLOCK {
            self.send_block()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_block()?;
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(Message::Flush(reply))?;
        answer.recv().unwrap_or_else(|_| Err(stopped()))
    }
}

impl<W: Write + Send + 'static> Drop for WriteBehind<W> {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.send_block();
            let _ = self.finish_thread();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A destination that keeps what it is given and fails after `limit`
    /// bytes.
    #[derive(Clone)]
    struct Recorder {
        bytes: Arc<Mutex<Vec<u8>>>,
        limit: usize,
        flushes: Arc<Mutex<usize>>,
    }

    impl Write for Recorder {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut bytes = self.bytes.lock().expect("not poisoned");
            if bytes.len() + buf.len() > self.limit {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
            }
            bytes.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            *self.flushes.lock().expect("not poisoned") += 1;
            Ok(())
        }
    }

    fn recorder(limit: usize) -> Recorder {
        Recorder {
            bytes: Arc::new(Mutex::new(Vec::new())),
            limit,
            flushes: Arc::new(Mutex::new(0)),
        }
    }

    #[test]
    fn every_byte_arrives_in_order() {
        let destination = recorder(usize::MAX);
        let mut w = WriteBehind::new(destination.clone()).expect("thread starts");
        let mut expected = Vec::new();
        for i in 0..300_000u32 {
            let line = format!("{i} 광주\n");
            w.write_all(line.as_bytes()).expect("no error");
            expected.extend_from_slice(line.as_bytes());
        }
        w.flush().expect("flushes");
        assert_eq!(*destination.flushes.lock().expect("not poisoned"), 1);
        w.write_all(b"tail").expect("no error");
        expected.extend_from_slice(b"tail");
        w.into_inner().expect("no error");
        assert_eq!(*destination.bytes.lock().expect("not poisoned"), expected);
    }

    #[test]
    fn an_error_of_the_destination_comes_back() {
        let destination = recorder(3 * BLOCK);
        let mut w = WriteBehind::new(destination).expect("thread starts");
        let chunk = vec![b'x'; 64 * 1024];
        let mut failed = None;
        for _ in 0..200 {
            if let Err(e) = w.write_all(&chunk) {
                failed = Some(e);
                break;
            }
        }
        let error = match failed {
            Some(e) => e,
            None => w.into_inner().err().expect("the destination is full"),
        };
        assert_eq!(error.kind(), io::ErrorKind::StorageFull, "{error}");
    }

    /// A destination that panics on its first write.
    struct Panicking;

    impl Write for Panicking {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            panic!("destination broke");
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_panic_of_the_destination_is_an_error() {
        let mut w = WriteBehind::new(Panicking).expect("thread starts");
        w.write_all(b"bytes").expect("only buffered");
        let error = w.into_inner().err().expect("the destination panicked");
        assert!(error.to_string().contains("destination broke"), "{error}");
    }

    #[test]
    fn the_last_error_shows_at_into_inner() {
        let destination = recorder(10);
        let mut w = WriteBehind::new(destination).expect("thread starts");
        w.write_all(b"more than ten bytes").expect("only buffered");
        let error = w.into_inner().err().expect("the destination is full");
        assert_eq!(error.kind(), io::ErrorKind::StorageFull);
    }
}

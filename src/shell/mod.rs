//! The only impure code: sockets, the clock and signals, on one mio loop.
//!
//! The loop: poll until the core's next deadline or an event, read every
//! readable socket until `WouldBlock` into the core, let the core advance
//! its timers, carry out the core's actions (connect, disconnect, exit), and
//! write pending output until `WouldBlock`, asking for WRITABLE only while
//! output is pending. Everything else lives in [`crate::core::Core`].

use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Instant;

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;

use crate::conn::ConnId;
use crate::core::{Action, Core};

const SIGNALS: Token = Token(2);

/// A stream's socket and what we asked mio for.
#[derive(Debug)]
struct Socket {
    stream: TcpStream,
    connecting: bool,
    interest: Interest,
}

/// The event loop's state besides the core.
#[derive(Debug)]
struct Shell {
    poll: Poll,
    sockets: [Option<Socket>; 2],
    /// `host:port` of each stream, resolved at every connect (DNS may change).
    targets: [(String, u16); 2],
    /// Rotates through resolved addresses across attempts.
    attempt: [usize; 2],
}

/// Runs the focus until the core says to exit; returns the exit code. A
/// fatal message is printed to stderr as one plain sentence.
pub fn run(mut core: Core, targets: [(String, u16); 2]) -> io::Result<i32> {
    let poll = Poll::new()?;
    let mut signals = Signals::new([SIGTERM, SIGINT])?;
    poll.registry()
        .register(&mut signals, SIGNALS, Interest::READABLE)?;
    let mut shell = Shell {
        poll,
        sockets: [None, None],
        targets,
        attempt: [0, 0],
    };
    let mut events = Events::with_capacity(64);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        while let Some(action) = core.poll_action() {
            match action {
                Action::Connect(id) => shell.connect(&mut core, id),
                Action::Disconnect(id) => shell.disconnect(&mut core, id),
                Action::Exit { code, message } => {
                    for id in ConnId::ALL {
                        shell.disconnect(&mut core, id);
                    }
                    if let Some(m) = message {
                        eprintln!("jicofo: {m}");
                    }
                    return Ok(code);
                }
            }
        }
        for id in ConnId::ALL {
            shell.flush(&mut core, id)?;
        }
        let timeout = core
            .poll_timeout()
            .map(|t| t.saturating_duration_since(Instant::now()));
        if let Err(e) = shell.poll.poll(&mut events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        let now = Instant::now();
        for ev in events.iter() {
            match ev.token() {
                SIGNALS => {
                    for sig in signals.pending() {
                        log::info!("received signal {sig}");
                        core.shutdown(now);
                    }
                }
                Token(i) if i < 2 => shell.ready(&mut core, now, ConnId::ALL[i], ev, &mut buf),
                _ => {}
            }
        }
        core.handle_timeout(Instant::now());
    }
}

impl Shell {
    fn connect(&mut self, core: &mut Core, id: ConnId) {
        let now = Instant::now();
        self.disconnect(core, id);
        let (host, port) = &self.targets[id as usize];
        let addrs: Vec<SocketAddr> = match (host.as_str(), *port).to_socket_addrs() {
            Ok(a) => a.collect(),
            Err(e) => {
                return core.handle_connect_failed(now, id, &format!("cannot resolve {host}: {e}"));
            }
        };
        if addrs.is_empty() {
            return core.handle_connect_failed(now, id, &format!("{host} has no address"));
        }
        let addr = addrs[self.attempt[id as usize] % addrs.len()];
        self.attempt[id as usize] = self.attempt[id as usize].wrapping_add(1);
        let mut stream = match TcpStream::connect(addr) {
            Ok(s) => s,
            Err(e) => return core.handle_connect_failed(now, id, &format!("{addr}: {e}")),
        };
        let interest = Interest::READABLE | Interest::WRITABLE;
        if let Err(e) = self
            .poll
            .registry()
            .register(&mut stream, Token(id as usize), interest)
        {
            return core.handle_connect_failed(now, id, &format!("cannot register socket: {e}"));
        }
        self.sockets[id as usize] = Some(Socket {
            stream,
            connecting: true,
            interest,
        });
    }

    fn disconnect(&mut self, core: &mut Core, id: ConnId) {
        if let Some(mut s) = self.sockets[id as usize].take() {
            if !s.connecting {
                // Best effort: a stream error or close tag still pending.
                let out = core.output(id);
                if !out.is_empty()
                    && let Ok(n) = s.stream.write(out)
                {
                    core.consume_output(id, n);
                }
            }
            let _ = self.poll.registry().deregister(&mut s.stream);
            let _ = s.stream.shutdown(std::net::Shutdown::Both);
        }
        let n = core.output(id).len();
        core.consume_output(id, n);
    }

    fn ready(
        &mut self,
        core: &mut Core,
        now: Instant,
        id: ConnId,
        ev: &mio::event::Event,
        buf: &mut [u8],
    ) {
        let Some(sock) = self.sockets[id as usize].as_mut() else {
            return;
        };
        if sock.connecting {
            match sock.stream.take_error() {
                Ok(Some(e)) | Err(e) => {
                    let _ = self.poll.registry().deregister(&mut sock.stream);
                    self.sockets[id as usize] = None;
                    return core.handle_connect_failed(now, id, &e.to_string());
                }
                Ok(None) => {}
            }
            match sock.stream.peer_addr() {
                Ok(_) => {
                    sock.connecting = false;
                    let _ = sock.stream.set_nodelay(true);
                    core.handle_connected(now, id);
                }
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                Err(e) => {
                    let _ = self.poll.registry().deregister(&mut sock.stream);
                    self.sockets[id as usize] = None;
                    return core.handle_connect_failed(now, id, &e.to_string());
                }
            }
        }
        if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
            let Some(sock) = self.sockets[id as usize].as_mut() else {
                return;
            };
            loop {
                match sock.stream.read(buf) {
                    Ok(0) => {
                        core.handle_eof(now, id);
                        break;
                    }
                    Ok(n) => core.handle_input(now, id, &buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        log::debug!("{} socket read failed: {e}", id.name());
                        core.handle_eof(now, id);
                        break;
                    }
                }
            }
        }
    }

    /// Writes pending output until `WouldBlock`; keeps WRITABLE interest only
    /// while something is left.
    fn flush(&mut self, core: &mut Core, id: ConnId) -> io::Result<()> {
        let Some(sock) = self.sockets[id as usize].as_mut() else {
            return Ok(());
        };
        if sock.connecting {
            return Ok(());
        }
        loop {
            let out = core.output(id);
            if out.is_empty() {
                break;
            }
            match sock.stream.write(out) {
                Ok(0) => break,
                Ok(n) => core.consume_output(id, n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::debug!("{} socket write failed: {e}", id.name());
                    core.handle_eof(Instant::now(), id);
                    return Ok(());
                }
            }
        }
        let Some(sock) = self.sockets[id as usize].as_mut() else {
            return Ok(());
        };
        let want = if core.output(id).is_empty() {
            Interest::READABLE
        } else {
            Interest::READABLE | Interest::WRITABLE
        };
        if want != sock.interest {
            self.poll
                .registry()
                .reregister(&mut sock.stream, Token(id as usize), want)?;
            sock.interest = want;
        }
        Ok(())
    }
}

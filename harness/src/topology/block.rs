//! Claiming a loopback block `127.0.X.0/24` for one topology: a lock file per block (held for the
//! topology's life, released by the kernel if the process dies) plus a bind check, so parallel test
//! processes, the local model and a demo never share addresses.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::os::fd::AsRawFd;
use std::path::PathBuf;

/// Blocks the fixture may use; the local model allocates from the low end, so start high.
const CANDIDATES: std::ops::RangeInclusive<u8> = 160..=254;

/// A claimed `127.0.X.0/24` block; the claim lasts as long as this value.
#[derive(Debug)]
pub struct AddressBlock {
    /// The `X` in `127.0.X.0/24`.
    pub octet: u8,
    /// The open, flock-ed lock file; closing it releases the claim.
    _lock: File,
}

impl AddressBlock {
    /// The address of host `n` (0-based) in this block: `127.0.X.(n+2)`.
    pub fn host(&self, n: usize) -> Ipv4Addr {
        let last = u8::try_from(n + 2).expect("at most 253 hosts per block");
        Ipv4Addr::new(127, 0, self.octet, last)
    }

    /// Claims a block in which every one of `hosts` hosts can bind every port in `ports`.
    pub fn claim(hosts: usize, ports: &[u16]) -> std::io::Result<Self> {
        let dir = lock_dir();
        std::fs::create_dir_all(&dir)?;
        let start = (std::process::id() % 64) as u8;
        let span = CANDIDATES.end() - CANDIDATES.start() + 1;
        for offset in 0..span {
            let octet = CANDIDATES.start() + (start + offset) % span;
            let file = File::create(dir.join(format!("block-{octet}.lock")))?;
            // SAFETY: flock on a file descriptor we own; no memory is shared with the kernel.
            let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
            if !locked {
                continue;
            }
            let block = Self { octet, _lock: file };
            if (0..hosts).all(|n| ports.iter().all(|&port| bindable(block.host(n), port))) {
                return Ok(block);
            }
        }
        Err(std::io::Error::new(std::io::ErrorKind::AddrInUse, "no free 127.0.X.0/24 block for the topology"))
    }
}

fn lock_dir() -> PathBuf {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    std::env::temp_dir().join(format!("valkey-harness-{uid}"))
}

fn bindable(ip: Ipv4Addr, port: u16) -> bool {
    TcpListener::bind(SocketAddrV4::new(ip, port)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_claims_get_different_blocks() {
        let a = AddressBlock::claim(3, &[6379]).unwrap();
        let b = AddressBlock::claim(3, &[6379]).unwrap();
        assert_ne!(a.octet, b.octet);
        assert_eq!(a.host(0), Ipv4Addr::new(127, 0, a.octet, 2));
    }
}

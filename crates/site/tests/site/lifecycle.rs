//! Starting and stopping: binding errors, other addresses, and shutdown on drop.

use std::io::{ErrorKind, Read};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::time::Duration;

use site::SiteConfig;

use crate::support::{connect, get, quick, start, wait_for};

#[test]
fn a_second_site_on_the_same_port_is_an_error() {
    let first = start(quick());
    let taken = SiteConfig { port: first.addr().port(), ..quick() };
    let err = site::spawn(taken).expect_err("the port is taken");
    assert_eq!(err.kind(), ErrorKind::AddrInUse);
}

#[test]
fn it_can_listen_on_another_loopback_address() {
    let host = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let site = start(SiteConfig { host, ..quick() });
    assert_eq!(site.addr().ip(), host);
    assert_eq!(site.url(), format!("http://127.0.0.2:{}/", site.addr().port()));
    assert_eq!(get(&site, "/").status, 200);
}

#[test]
fn dropping_the_site_closes_everything() {
    let site = start(quick());
    let addr = site.addr();
    let mut idle = connect(addr);
    wait_for("the connection to be accepted", || site.counters().open_connections() == 1);
    drop(site);
    // The open connection is closed (FIN or RST, depending on timing)...
    idle.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 1];
    match idle.read(&mut buf) {
        Ok(0) => {}
        Ok(_) => panic!("unexpected data"),
        Err(err) => assert_eq!(err.kind(), ErrorKind::ConnectionReset),
    }
    // ...and nobody is listening any more.
    let err = TcpStream::connect(addr).expect_err("nothing listens");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
}

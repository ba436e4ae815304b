//! One DNS message to one server, and its response: over UDP when it fits, over TCP when it does
//! not or the answer comes back truncated.
//!
//! Updates go to one server (the zone's primary), their messages are signed before they are
//! sent, and their error responses matter as much as their answers. hickory's resolver pool fits
//! none of that (it spreads queries over servers and turns error codes into errors without the
//! response), so this sends messages itself:
//! - UDP through hickory's `UdpClientStream`, which picks a random source port, retransmits
//!   within the timeout (RFC 1035 4.2.1 / RFC 2136 4: the requestor retries), and drops
//!   datagrams whose source, ID or question do not match;
//! - TCP for messages over 512 bytes (RFC 1035 4.2.1 limits UDP to 512 without EDNS, which these
//!   messages do not carry) and for truncated answers, with the two-byte length prefix of RFC
//!   1035 4.2.2, on a plain tokio connection: hickory's TCP client turns the unsigned BADKEY and
//!   BADSIG replies a server sends when it cannot check a request's signature (RFC 8945 5.3.2)
//!   into a generic error, losing the code that tells an unknown key from a wrong secret.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::udp::UdpClientStream;
use hickory_resolver::net::xfer::{DnsRequestSender, FirstAnswer};
use hickory_resolver::proto::op::{DnsRequest, DnsRequestOptions, DnsResponse, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The largest message sent over UDP (RFC 1035 4.2.1).
const MAX_UDP_MESSAGE: usize = 512;

/// Why no response came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExchangeError {
    /// None within the timeout.
    Timeout,
    /// The server could not be reached, or dropped the connection.
    Unreachable(String),
    /// What came back is not a DNS response to the message.
    Malformed(String),
    /// The message is bigger than DNS can carry (RFC 1035 4.2.2: 65535 bytes).
    TooBig(usize),
    /// The message could not be encoded.
    Encode(String),
}

/// Sends `message` to `server` and returns the response, waiting at most `timeout` for each
/// transport tried.
pub(crate) async fn exchange(
    server: SocketAddr,
    message: &Message,
    timeout: Duration,
) -> Result<DnsResponse, ExchangeError> {
    let bytes = message
        .to_vec()
        .map_err(|e| ExchangeError::Encode(e.to_string()))?;
    if bytes.len() <= MAX_UDP_MESSAGE {
        let response = over_udp(server, message.clone(), timeout).await?;
        // RFC 1035 4.2.1 / RFC 7766 5: a truncated answer is asked again over TCP.
        if !response.truncation {
            return Ok(response);
        }
    }
    over_tcp(server, &bytes, message.id, timeout).await
}

async fn over_udp(
    server: SocketAddr,
    message: Message,
    timeout: Duration,
) -> Result<DnsResponse, ExchangeError> {
    let mut stream = UdpClientStream::builder(server, TokioRuntimeProvider::new())
        .with_timeout(Some(timeout))
        .build();
    // The default options leave the message as it is: no case randomisation of the question,
    // which would change a signed message.
    let request = DnsRequest::new(message, DnsRequestOptions::default());
    stream
        .send_message(request)
        .first_answer()
        .await
        .map_err(|error| match error {
            NetError::Timeout => ExchangeError::Timeout,
            NetError::Io(error) => ExchangeError::Unreachable(error.to_string()),
            NetError::Proto(error) => ExchangeError::Malformed(error.to_string()),
            other => ExchangeError::Unreachable(other.to_string()),
        })
}

async fn over_tcp(
    server: SocketAddr,
    bytes: &[u8],
    id: u16,
    timeout: Duration,
) -> Result<DnsResponse, ExchangeError> {
    let length = u16::try_from(bytes.len()).map_err(|_| ExchangeError::TooBig(bytes.len()))?;
    let mut framed = Vec::with_capacity(bytes.len() + 2);
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(bytes);
    let response = tokio::time::timeout(timeout, async {
        let mut stream = TcpStream::connect(server).await?;
        stream.write_all(&framed).await?;
        loop {
            let mut length = [0u8; 2];
            stream.read_exact(&mut length).await?;
            let mut response = vec![0u8; usize::from(u16::from_be_bytes(length))];
            stream.read_exact(&mut response).await?;
            // Only a response with the message's ID answers it (RFC 1035 7.3).
            if response.get(..2) == Some(&id.to_be_bytes()[..]) {
                return Ok::<_, io::Error>(response);
            }
        }
    })
    .await
    .map_err(|_| ExchangeError::Timeout)?
    .map_err(|error| match error.kind() {
        io::ErrorKind::UnexpectedEof => {
            ExchangeError::Unreachable("the server closed the connection without answering".into())
        }
        _ => ExchangeError::Unreachable(error.to_string()),
    })?;
    DnsResponse::from_buffer(response).map_err(|e| ExchangeError::Malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use std::net::UdpSocket;

    use hickory_resolver::proto::op::Query;
    use hickory_resolver::proto::rr::{Name, RecordType};

    use super::*;

    fn query() -> Message {
        let mut message = Message::query();
        message.add_query(Query::query(
            Name::from_ascii("example.com.").unwrap(),
            RecordType::SOA,
        ));
        message
    }

    #[test]
    fn a_silent_server_times_out_and_a_closed_port_is_unreachable() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
        let timeout = Duration::from_millis(200);
        let result = runtime.block_on(exchange(silent.local_addr().unwrap(), &query(), timeout));
        assert_eq!(result.unwrap_err(), ExchangeError::Timeout);

        // Nothing listens on TCP at the silent socket's port (it is UDP only).
        let result = runtime.block_on(over_tcp(
            silent.local_addr().unwrap(),
            &query().to_vec().unwrap(),
            query().id,
            timeout,
        ));
        assert!(
            matches!(&result, Err(ExchangeError::Unreachable(detail)) if detail.contains("refused")),
            "{result:?}"
        );
    }

    #[test]
    fn messages_too_big_for_dns_are_refused() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let result = runtime.block_on(over_tcp(
            SocketAddr::from(([127, 0, 0, 1], 9)),
            &vec![0; 70_000],
            0,
            Duration::from_secs(1),
        ));
        assert_eq!(result.unwrap_err(), ExchangeError::TooBig(70_000));
    }
}

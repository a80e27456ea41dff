//! The SMTP notifier against a small scriptable SMTP server on 127.0.0.1.

use std::{net::SocketAddr, time::Duration};

use cem_core::{
    Channel, Language, MessageId, Notifier, OrganizationId, OutboundMessage, SendError,
};
use cem_notify_smtp::{SmtpNotifier, SmtpSecurity, SmtpSettings};
use mail_parser::MimeHeaders;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::mpsc,
};

/// How the test server behaves.
#[derive(Debug, Clone, Copy)]
enum Script {
    /// Accepts every message.
    Accept,
    /// Answers `RCPT TO` with this reply.
    Rcpt(&'static str),
    /// Offers `AUTH PLAIN LOGIN` and answers `AUTH` with this reply.
    Auth(&'static str),
    /// Accepts the connection and never says a word.
    Silent,
}

/// What the server received in one accepted transaction.
#[derive(Debug)]
struct Received {
    mail_from: String,
    rcpt_to: Vec<String>,
    /// The message as transmitted, dot-unstuffed, without the final `.` line.
    data: Vec<u8>,
}

/// Starts a server speaking enough of RFC 5321 for one client at a time.
async fn server(script: Script) -> (SocketAddr, mpsc::UnboundedReceiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                // A client that vanishes mid-dialogue ends only its own session.
                let _ = session(stream, script, tx).await;
            });
        }
    });
    (addr, rx)
}

async fn session(
    stream: TcpStream,
    script: Script,
    received: mpsc::UnboundedSender<Received>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    if let Script::Silent = script {
        // Hold the connection open until the client gives up.
        let mut sink = Vec::new();
        read.read_to_end(&mut sink).await?;
        return Ok(());
    }
    write.write_all(b"220 mx.test ESMTP ready\r\n").await?;
    let mut mail_from = None;
    let mut rcpt_to = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let command = String::from_utf8_lossy(&line).trim_end().to_owned();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: String = match verb.as_str() {
            // No 8BITMIME: the client must send a 7-bit message.
            "EHLO" => match script {
                Script::Auth(_) => "250-mx.test\r\n250 AUTH PLAIN LOGIN".into(),
                _ => "250 mx.test".into(),
            },
            "HELO" => "250 mx.test".into(),
            "AUTH" => match script {
                Script::Auth(reply) => reply.into(),
                _ => "502 5.5.1 not offered".into(),
            },
            "MAIL" => {
                mail_from = Some(path(&command));
                rcpt_to.clear();
                "250 2.1.0 ok".into()
            }
            "RCPT" => match script {
                Script::Rcpt(reply) => reply.into(),
                _ => {
                    rcpt_to.push(path(&command));
                    "250 2.1.5 ok".into()
                }
            },
            "DATA" if mail_from.is_some() && !rcpt_to.is_empty() => {
                write
                    .write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let data = read_data(&mut read).await?;
                let _ = received.send(Received {
                    mail_from: mail_from.take().unwrap_or_default(),
                    rcpt_to: std::mem::take(&mut rcpt_to),
                    data,
                });
                "250 2.0.0 queued".into()
            }
            "DATA" => "503 5.5.1 need MAIL and RCPT first".into(),
            "RSET" => {
                mail_from = None;
                rcpt_to.clear();
                "250 2.0.0 ok".into()
            }
            "NOOP" => "250 2.0.0 ok".into(),
            "QUIT" => {
                write.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => "500 5.5.2 unrecognized command".into(),
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

/// The address between `<` and `>` of `MAIL FROM:<…>` or `RCPT TO:<…>`.
fn path(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command.rfind('>').unwrap_or(command.len());
    command[start..end].to_owned()
}

/// Reads the message after `DATA` up to the lone `.` line, undoing dot-stuffing.
async fn read_data<R: AsyncBufReadExt + Unpin>(read: &mut R) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" {
            return Ok(data);
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
        data.extend_from_slice(unstuffed);
    }
}

/// The decoded text of a received e-mail. E-mail lines end in CRLF and the client may end the
/// text with line breaks of its own; otherwise the text must be exactly what was sent.
fn text(parsed: &mail_parser::Message<'_>) -> String {
    parsed
        .body_text(0)
        .unwrap()
        .replace("\r\n", "\n")
        .trim_end_matches('\n')
        .to_owned()
}

fn settings(addr: SocketAddr) -> SmtpSettings {
    SmtpSettings::new(
        addr.ip().to_string(),
        addr.port(),
        SmtpSecurity::None,
        "CEM <noreply@bank.example>",
    )
}

fn notifier(addr: SocketAddr) -> SmtpNotifier {
    SmtpNotifier::new(settings(addr)).unwrap()
}

fn email(to: &str) -> OutboundMessage {
    OutboundMessage {
        id: MessageId::from_u128(0x2a),
        organization: OrganizationId::from_u128(1),
        channel: Channel::Email,
        to: to.to_owned(),
        kind: "ticket_called".to_owned(),
        language: Language::fa(),
        subject: Some("نوبت شما رسید".to_owned()),
        body: "مشتری گرامی، شماره A-042 به باجه ۳ مراجعه کنید.\nبا سپاس، بانک".to_owned(),
        created_at: chrono::DateTime::UNIX_EPOCH,
    }
}

#[tokio::test]
async fn a_persian_message_arrives_intact_with_its_headers() {
    let (addr, mut inbox) = server(Script::Accept).await;
    let message = email("client@example.com");

    notifier(addr).send(&message).await.unwrap();

    let received = inbox.recv().await.unwrap();
    assert_eq!(received.mail_from, "noreply@bank.example");
    assert_eq!(received.rcpt_to, ["client@example.com"]);
    assert!(received.data.is_ascii(), "the message must be 7-bit clean");

    let parsed = mail_parser::MessageParser::default()
        .parse(&received.data)
        .unwrap();
    let from = parsed.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("CEM"));
    assert_eq!(from.address(), Some("noreply@bank.example"));
    assert_eq!(
        parsed.to().unwrap().first().unwrap().address(),
        Some("client@example.com")
    );
    assert_eq!(parsed.subject(), Some("نوبت شما رسید"));
    assert_eq!(
        parsed.message_id(),
        Some("00000000-0000-0000-0000-00000000002a@cem")
    );
    assert_eq!(
        parsed.header_raw("Content-Language").map(str::trim),
        Some("fa")
    );
    let content_type = parsed.content_type().unwrap();
    assert_eq!(content_type.ctype(), "text");
    assert_eq!(content_type.subtype(), Some("plain"));
    assert_eq!(
        content_type
            .attribute("charset")
            .map(str::to_ascii_lowercase),
        Some("utf-8".to_owned())
    );
    let encoding = parsed
        .content_transfer_encoding()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        encoding == "quoted-printable" || encoding == "base64",
        "{encoding}"
    );
    assert_eq!(text(&parsed), message.body);
}

#[tokio::test]
async fn lines_starting_with_a_dot_survive_the_data_terminator() {
    let (addr, mut inbox) = server(Script::Accept).await;
    let mut message = email("client@example.com");
    message.language = Language::en();
    message.subject = None;
    message.body = "Line one\n.\n..two dots\nlast".to_owned();

    notifier(addr).send(&message).await.unwrap();

    let received = inbox.recv().await.unwrap();
    let parsed = mail_parser::MessageParser::default()
        .parse(&received.data)
        .unwrap();
    assert_eq!(parsed.subject(), Some("ticket_called"));
    assert_eq!(
        parsed.header_raw("Content-Language").map(str::trim),
        Some("en")
    );
    assert_eq!(text(&parsed), message.body);
}

#[tokio::test]
async fn a_refused_mailbox_is_permanent() {
    let (addr, mut inbox) = server(Script::Rcpt("550 5.1.1 mailbox unavailable")).await;

    let error = notifier(addr)
        .send(&email("nobody@example.com"))
        .await
        .unwrap_err();

    assert!(matches!(error, SendError::Permanent { .. }), "{error:?}");
    assert!(error.to_string().contains("550"), "{error}");
    assert!(inbox.try_recv().is_err(), "no message was accepted");
}

#[tokio::test]
async fn a_bad_address_reply_is_permanent() {
    let (addr, _inbox) = server(Script::Rcpt("553 5.1.3 bad recipient address syntax")).await;

    let error = notifier(addr)
        .send(&email("client@example.com"))
        .await
        .unwrap_err();

    assert!(matches!(error, SendError::Permanent { .. }), "{error:?}");
}

#[tokio::test]
async fn a_temporary_refusal_is_retryable() {
    let (addr, _inbox) = server(Script::Rcpt("451 4.3.0 try again later")).await;

    let error = notifier(addr)
        .send(&email("client@example.com"))
        .await
        .unwrap_err();

    assert!(matches!(error, SendError::Retryable { .. }), "{error:?}");
    assert!(error.to_string().contains("451"), "{error}");
}

#[tokio::test]
async fn refused_credentials_are_retryable_not_a_refused_message() {
    let (addr, _inbox) = server(Script::Auth("535 5.7.8 authentication credentials invalid")).await;
    let notifier = SmtpNotifier::new(settings(addr).with_credentials("cem", "wrong")).unwrap();

    let error = notifier
        .send(&email("client@example.com"))
        .await
        .unwrap_err();

    assert!(matches!(error, SendError::Retryable { .. }), "{error:?}");
    assert!(error.to_string().contains("535"), "{error}");
}

#[tokio::test]
async fn a_silent_server_is_retryable_after_the_timeout() {
    let (addr, _inbox) = server(Script::Silent).await;
    let notifier =
        SmtpNotifier::new(settings(addr).with_timeout(Duration::from_millis(300))).unwrap();

    let error = notifier
        .send(&email("client@example.com"))
        .await
        .unwrap_err();

    assert!(matches!(error, SendError::Retryable { .. }), "{error:?}");
    assert!(error.to_string().contains("no answer"), "{error}");
}

#[tokio::test]
async fn nothing_listening_is_retryable() {
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };

    let error = notifier(addr)
        .send(&email("client@example.com"))
        .await
        .unwrap_err();

    assert!(matches!(error, SendError::Retryable { .. }), "{error:?}");
}

/// A listener nobody should connect to, checked without waiting: a connection the client made
/// sits in the accept queue before the client's `connect` returns.
fn untouched_listener() -> (std::net::TcpListener, SocketAddr) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

fn assert_never_connected(listener: &std::net::TcpListener) {
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the notifier connected: {other:?}"),
    }
}

#[tokio::test]
async fn a_bad_address_is_permanent_without_connecting() {
    let (listener, addr) = untouched_listener();
    let notifier = notifier(addr);

    for to in [
        "",
        "not an address",
        "client@",
        "client@example.com\r\nBcc: spy@example.com",
    ] {
        let error = notifier.send(&email(to)).await.unwrap_err();
        assert!(
            matches!(error, SendError::Permanent { .. }),
            "{to:?}: {error:?}"
        );
    }

    assert_never_connected(&listener);
}

#[tokio::test]
async fn other_channels_are_permanent_without_connecting() {
    let (listener, addr) = untouched_listener();
    let notifier = notifier(addr);
    assert!(notifier.handles(Channel::Email));

    for channel in [Channel::Sms, Channel::Webhook] {
        assert!(!notifier.handles(channel));
        let mut message = email("client@example.com");
        message.channel = channel;
        let error = notifier.send(&message).await.unwrap_err();
        assert!(
            matches!(error, SendError::Permanent { .. }),
            "{channel:?}: {error:?}"
        );
    }

    assert_never_connected(&listener);
}

#[tokio::test]
async fn the_same_message_keeps_its_message_id_on_every_attempt() {
    let (addr, mut inbox) = server(Script::Accept).await;
    let notifier = notifier(addr);
    let message = email("client@example.com");

    notifier.send(&message).await.unwrap();
    notifier.send(&message).await.unwrap();

    let ids: Vec<String> = [inbox.recv().await.unwrap(), inbox.recv().await.unwrap()]
        .iter()
        .map(|received| {
            mail_parser::MessageParser::default()
                .parse(&received.data)
                .unwrap()
                .message_id()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids[0], ids[1]);
    assert_eq!(ids[0], format!("{}@cem", message.id));
}

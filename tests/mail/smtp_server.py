"""A real SMTP server for Steward's mail tests (Debian's python3-aiosmtpd).

  /usr/bin/python3 tests/mail/smtp_server.py --dir DIR [--tls CERT KEY]

Prints "ready PORT" once listening on 127.0.0.1. Each message accepted is written to DIR as
N.eml (the bytes as received) and N.json: the envelope, whether STARTTLS was used, and the message
as Python's email package reads it (headers decoded, each part's type and decoded text). Recipients
starting "reject-" are refused with 550, "defer-" with 451. With --tls, STARTTLS is offered and
required. With --dkim-record FILE, each message's DKIM signature is verified (python3-dkim)
against the DNS TXT record in FILE, and N.json says whether it held. With --stall, it writes
DIR/stalled when a message's data has arrived and waits before answering; a message whose client
has gone by then was never accepted and is not kept. Stops on SIGTERM.
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import signal
import socket
import ssl
import threading

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, out, dkim_record=None, stall=False):
        self.out = out
        self.dkim_record = dkim_record
        self.stall = stall
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith('reject-'):
            return '550 5.1.1 <%s>: mailbox unavailable' % address
        if address.startswith('defer-'):
            return '451 4.3.0 <%s>: try again later' % address
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        if self.stall:
            open(os.path.join(self.out, 'stalled'), 'w').close()
            for _ in range(300):
                await asyncio.sleep(0.1)
                if server.transport is None or server.transport.is_closing():
                    return '451 4.4.2 the client went away'
        raw = envelope.original_content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        parts = []
        for part in parsed.walk():
            if part.is_multipart():
                parts.append({'type': part.get_content_type()})
            else:
                parts.append({'type': part.get_content_type(), 'charset': part.get_content_charset(),
                              'encoding': part.get('Content-Transfer-Encoding', ''),
                              'content': part.get_content()})
        summary = {
            'mail_from': envelope.mail_from,
            'rcpt_tos': envelope.rcpt_tos,
            'tls': session.ssl is not None,
            'headers': {k: str(v) for k, v in parsed.items()},
            'parts': parts,
            'bare_lf': b'\n' in raw.replace(b'\r\n', b''),
            'longest_line': max(len(line) for line in raw.split(b'\r\n')),
            'longest': max(raw.split(b'\r\n'), key=len).decode('ascii', 'replace'),
        }
        if self.dkim_record is not None:
            import dkim
            record = self.dkim_record
            summary['dkim'] = dkim.verify(raw, dnsfunc=lambda name, timeout=5: record)
        with self.lock:
            self.count += 1
            base = os.path.join(self.out, '%06d' % self.count)
        with open(base + '.eml', 'wb') as f:
            f.write(raw)
        with open(base + '.tmp', 'w') as f:
            json.dump(summary, f)
        os.rename(base + '.tmp', base + '.json')
        return '250 Message accepted'


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--dir', required=True)
    parser.add_argument('--tls', nargs=2, metavar=('CERT', 'KEY'))
    parser.add_argument('--dkim-record')
    parser.add_argument('--stall', action='store_true')
    args = parser.parse_args()
    record = None
    if args.dkim_record:
        with open(args.dkim_record, 'rb') as f:
            record = f.read().strip()
    kwargs = {}
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls[0], args.tls[1])
        kwargs = {'tls_context': context, 'require_starttls': True}
    # The Controller checks its port by connecting to it, so it needs one given: a free one.
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(args.dir, record, args.stall), hostname='127.0.0.1', port=port, **kwargs)
    controller.start()
    print('ready %d' % port, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == '__main__':
    main()

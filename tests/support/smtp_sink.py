#!/usr/bin/python3
"""A real SMTP server for tests: aiosmtpd with STARTTLS (RFC 3207) and AUTH (RFC 4954).

Run it with Debian's /usr/bin/python3 (python3-aiosmtpd). It listens on 127.0.0.1, port 0, and
prints "port N" once it accepts connections. Each message it takes is written to --dir as N.eml
(the bytes received) and then N.json (mail_from, rcpt_tos, tls, auth_user), N counting from 1;
N.json appears last and whole (renamed into place), so a reader waits for it.

  --cert/--key   serve STARTTLS with this certificate, and require it before AUTH and MAIL
  (no --cert)    a server that offers no STARTTLS and takes mail without AUTH
  --user U       the AUTH user; the password is SMTP_SINK_PASSWORD's value
  --reject ADDR  answer RCPT TO:<ADDR> with 550 (repeatable)
  --defer ADDR   answer RCPT TO:<ADDR> with 451, try again later (repeatable)
"""
import argparse
import asyncio
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    def __init__(self, directory, reject, defer):
        self.directory = directory
        self.reject = {address.lower() for address in reject}
        self.defer = {address.lower() for address in defer}
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if address.lower() in self.defer:
            return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.directory, str(self.count))
        with open(base + ".eml", "wb") as out:
            out.write(envelope.original_content or envelope.content)
        user = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                "tls": session.ssl is not None, "auth_user": user}
        with open(base + ".json.tmp", "w") as out:
            json.dump(meta, out)
        os.rename(base + ".json.tmp", base + ".json")
        return "250 OK queued as %d" % self.count


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return check


async def serve(args):
    handler = Sink(args.dir, args.reject, args.defer)
    options = {}
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        options = dict(tls_context=context, require_starttls=True, auth_required=True,
                       auth_require_tls=True,
                       authenticator=authenticator(args.user, os.environ.get("SMTP_SINK_PASSWORD", "")))
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="sink.test", **options), "127.0.0.1", 0)
    print("port %d" % server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--user", default="switchboard")
    parser.add_argument("--reject", action="append", default=[])
    parser.add_argument("--defer", action="append", default=[])
    args = parser.parse_args()
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())

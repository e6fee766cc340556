#!/usr/bin/env python3
"""A scriptable XMPP participant for jicofo-rs's real-peer tests.

An independent XMPP implementation (slixmpp) that the Rust test harness
(tests/support/peer.rs) drives. It speaks JSON lines:

  stdin   one command per line:  {"cmd": "...", "tag": "...", ...}
  stdout  one event per line:    {"event": "...", ...}

Every command is answered by exactly one {"event": "reply", "tag": <tag>,
"cmd": <cmd>, "type": ...} line; commands run concurrently, so replies may
come out of order (match them by tag). Everything else on stdout is an
unsolicited event. Logs go to stderr.

Commands (all waits are bounded by "timeout", seconds, default 10):

  send_iq          xml (one <iq/>; no xmlns needed), timeout
                   -> type result|error|timeout|sent, xml, condition, error_type
                   (type "sent" when the IQ was a result/error: nothing to await)
  send_raw         xml (any stanza(s), written verbatim)        -> type ok
  join             room, nick, password?, extra_xml?, timeout
                   -> type joined (codes, item, xml) | error (condition, xml) | timeout
  leave            room, timeout                                -> type left|timeout
  disco_info       jid, node?, timeout
                   -> type result (identities, features, xml) | error | timeout
  ping             jid, timeout -> type result (rtt_ms) | error | timeout
  set_presence_extra  room, xml (children added to our MUC presence from now on;
                   re-sent at once when joined)                 -> type ok, sent
  auto_ack_jingle  on (bool): answer every Jingle IQ set with an empty result
                   -> type ok
  add_features     features (list of vars): advertised in our disco#info from
                   now on, as a Jitsi Meet client advertises its media
                   features                                     -> type ok
  connect          timeout: connect again after a disconnect    -> type connected|failed
  disconnect       timeout                                      -> type disconnected
  quit             -> type ok, then the process exits

Every event carries ts (Unix time in seconds, when it was emitted).

Events: connected (jid, mechanism), disconnected (reason), connection_failed,
failed_auth (condition), no_auth, ssl_invalid_chain, stream_error (condition),
presence (from, to, type, item {affiliation, role, jid, nick}, codes,
condition, xml), iq (get/set only: from, to, id, type, child, action,
auto_acked, xml), message (from, to, type, body, xml), fatal (error).
"""

import argparse
import asyncio
import json
import logging
import sys
import threading
import time
import xml.etree.ElementTree as ET

try:
    from slixmpp import ClientXMPP
    from slixmpp.exceptions import IqError, IqTimeout
except ImportError as exc:  # a missing peer is a failure, with a remedy
    sys.stdout.write(json.dumps({
        "event": "fatal",
        "error": "cannot import slixmpp (%s): run scripts/install-test-deps "
                 "(as root) to install it" % exc,
    }) + "\n")
    sys.stdout.flush()
    sys.exit(3)

NS_CLIENT = "jabber:client"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_STREAMS = "urn:ietf:params:xml:ns:xmpp-streams"
NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = NS_MUC + "#user"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_PING = "urn:xmpp:ping"
NS_JINGLE = "urn:xmpp:jingle:1"

log = logging.getLogger("agent")


def emit(obj):
    """One JSON object per line, ASCII only, flushed at once. `ts` is when
    it happened (Unix time, seconds): the demo's timeline orders the
    participants' events against the focus's log and the bridge by it."""
    obj.setdefault("ts", time.time())
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def parse_fragment(raw):
    """Parse stanza(s) or children written without xmlns as jabber:client
    content, the way they would be read inside a client stream."""
    wrapper = ET.fromstring("<w xmlns='%s'>%s</w>" % (NS_CLIENT, raw))
    return list(wrapper)


def local(tag):
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def error_of(xml):
    """(condition, type) of a stanza's <error/>, or (None, None)."""
    err = xml.find("{%s}error" % NS_CLIENT)
    if err is None:
        return None, None
    cond = None
    for child in err:
        if child.tag.startswith("{%s}" % NS_STANZAS) and local(child.tag) != "text":
            cond = local(child.tag)
            break
    return cond, err.get("type")


def bare(jid):
    return jid.split("/", 1)[0].lower()


def same_jid(a, b):
    """Compare JIDs with a case-insensitive bare part and an exact resource."""
    ra = a.split("/", 1)[1] if "/" in a else None
    rb = b.split("/", 1)[1] if "/" in b else None
    return bare(a) == bare(b) and ra == rb


class Agent(ClientXMPP):
    def __init__(self, args):
        plugin_config = {}
        if args.no_tls:
            plugin_config["feature_mechanisms"] = {
                "unencrypted_plain": True, "unencrypted_scram": True}
        ClientXMPP.__init__(self, args.jid, args.password or "",
                            plugin_config=plugin_config,
                            sasl_mech=args.mechanism or None)
        self.args = args
        self.auto_ack = False
        self.rooms = {}          # bare room jid -> nick, while joined
        self.extras = {}         # bare room jid -> raw XML of extra children
        self.join_waiters = []   # (occupant jid, future)
        self.leave_waiters = []  # (occupant jid, future)
        self.connected_waiters = []
        self.quit_future = None
        if args.ca_file:
            self.ca_certs = args.ca_file
        # Prosody's c2s port speaks STARTTLS: never try direct TLS first.
        self.enable_direct_tls = False
        if args.no_tls:
            self.enable_starttls = False
            self.enable_plaintext = True
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0045")
        self.register_plugin("xep_0199")
        self.add_filter("in", self.in_filter)
        self.add_event_handler("session_start", self.on_session_start)
        self.add_event_handler("disconnected", self.on_disconnected)
        self.add_event_handler("connection_failed", self.on_connection_failed)
        self.add_event_handler("failed_auth", self.on_failed_auth)
        self.add_event_handler("no_auth", lambda _=None: emit({"event": "no_auth"}))
        self.add_event_handler("ssl_invalid_chain", self.on_ssl_invalid_chain)
        self.add_event_handler("stream_error", self.on_stream_error)

    # ---- connection events ------------------------------------------------

    def on_session_start(self, _event):
        mech = self.plugin["feature_mechanisms"].mech
        emit({"event": "connected", "jid": str(self.boundjid),
              "mechanism": mech.name if mech is not None else None})
        for fut in self.connected_waiters:
            if not fut.done():
                fut.set_result(True)
        self.connected_waiters = []

    def on_disconnected(self, reason):
        self.rooms.clear()
        emit({"event": "disconnected", "reason": None if reason is None else str(reason)})

    def on_connection_failed(self, error):
        emit({"event": "connection_failed", "error": str(error)})

    def on_failed_auth(self, stanza):
        cond = None
        try:
            for child in stanza.xml:
                cond = local(child.tag)
                break
        except Exception:  # the event may carry something else
            pass
        emit({"event": "failed_auth", "condition": cond})

    def on_ssl_invalid_chain(self, error):
        emit({"event": "ssl_invalid_chain", "error": str(error)})
        self.disconnect(0)

    def on_stream_error(self, error):
        cond = None
        for child in error.xml:
            if child.tag.startswith("{%s}" % NS_STREAMS) and local(child.tag) != "text":
                cond = local(child.tag)
        emit({"event": "stream_error", "condition": cond, "xml": str(error)})

    # ---- every incoming stanza passes here first --------------------------

    def in_filter(self, stanza):
        xml = stanza.xml
        name = local(xml.tag)
        if xml.tag == "{%s}iq" % NS_CLIENT:
            typ = xml.get("type")
            if typ in ("get", "set"):
                child = xml[0] if len(xml) else None
                jingle = xml.find("{%s}jingle" % NS_JINGLE)
                ack = typ == "set" and jingle is not None and self.auto_ack
                emit({"event": "iq", "from": xml.get("from"), "to": xml.get("to"),
                      "id": xml.get("id"), "type": typ,
                      "child": None if child is None else child.tag,
                      "action": None if jingle is None else jingle.get("action"),
                      "auto_acked": ack, "xml": str(stanza)})
                if ack:
                    stanza.reply(clear=True).send()
                    return None  # handled: no default error reply
        elif name == "presence":
            self.on_presence(stanza)
        elif name == "message":
            body = xml.find("{%s}body" % NS_CLIENT)
            emit({"event": "message", "from": xml.get("from"), "to": xml.get("to"),
                  "type": xml.get("type", "normal"),
                  "body": None if body is None else body.text, "xml": str(stanza)})
        return stanza

    def on_presence(self, stanza):
        xml = stanza.xml
        frm = xml.get("from") or ""
        typ = xml.get("type", "available")
        ev = {"event": "presence", "from": frm, "to": xml.get("to"), "type": typ,
              "item": None, "codes": [], "condition": None, "xml": str(stanza)}
        x = xml.find("{%s}x" % NS_MUC_USER)
        if x is not None:
            item = x.find("{%s}item" % NS_MUC_USER)
            if item is not None:
                ev["item"] = {k: item.get(k) for k in ("affiliation", "role", "jid", "nick")}
            for status in x.findall("{%s}status" % NS_MUC_USER):
                try:
                    ev["codes"].append(int(status.get("code")))
                except (TypeError, ValueError):
                    pass
        if typ == "error":
            ev["condition"], ev["error_type"] = error_of(xml)
        emit(ev)
        # Resolve pending joins and leaves. Prosody's join error presence has
        # no muc <x/>: match it by occupant JID, not by namespace.
        for occupant, fut in list(self.join_waiters):
            if fut.done() or not same_jid(frm, occupant):
                continue
            if typ == "error" or (typ == "available" and 110 in ev["codes"]):
                fut.set_result(ev)
        for occupant, fut in list(self.leave_waiters):
            if not fut.done() and same_jid(frm, occupant) and typ == "unavailable":
                fut.set_result(ev)

    # ---- commands ----------------------------------------------------------

    async def dispatch(self, cmd):
        tag = cmd.get("tag")
        name = cmd.get("cmd")
        try:
            handler = getattr(self, "cmd_" + str(name), None)
            if handler is None:
                res = {"type": "failure", "error": "unknown command %r" % name}
            else:
                res = await handler(cmd)
        except Exception as exc:  # report, never die: the test decides
            log.exception("command %s failed", name)
            res = {"type": "failure", "error": "%s: %s" % (type(exc).__name__, exc)}
        out = {"event": "reply", "tag": tag, "cmd": name}
        out.update(res)
        emit(out)
        if name == "quit":
            self.finish()

    @staticmethod
    def timeout_of(cmd):
        return float(cmd.get("timeout", 10))

    async def cmd_send_iq(self, cmd):
        elems = parse_fragment(cmd["xml"])
        if len(elems) != 1 or elems[0].tag != "{%s}iq" % NS_CLIENT:
            return {"type": "failure", "error": "send_iq needs exactly one <iq/>"}
        iq = self.Iq(xml=elems[0])
        if iq["type"] not in ("get", "set"):
            iq.send()
            return {"type": "sent", "id": iq["id"]}
        try:
            res = await iq.send(timeout=self.timeout_of(cmd))
            return {"type": "result", "id": iq["id"], "xml": str(res)}
        except IqError as exc:
            cond, etype = error_of(exc.iq.xml)
            return {"type": "error", "id": iq["id"], "condition": cond,
                    "error_type": etype, "xml": str(exc.iq)}
        except IqTimeout:
            return {"type": "timeout", "id": iq["id"]}

    async def cmd_send_raw(self, cmd):
        self.send_raw(cmd["xml"])
        return {"type": "ok"}

    def muc_presence(self, room, nick, join, password=None, extra_xml=None):
        pres = self.Presence()
        pres["to"] = "%s/%s" % (room, nick)
        if join:
            x = ET.SubElement(pres.xml, "{%s}x" % NS_MUC)
            if password:
                ET.SubElement(x, "{%s}password" % NS_MUC).text = password
        extra = extra_xml if extra_xml is not None else self.extras.get(bare(room))
        if extra:
            for elem in parse_fragment(extra):
                pres.xml.append(elem)
        return pres

    async def cmd_join(self, cmd):
        room, nick = cmd["room"], cmd["nick"]
        if cmd.get("extra_xml") is not None:
            self.extras[bare(room)] = cmd["extra_xml"]
        occupant = "%s/%s" % (room, nick)
        fut = self.loop.create_future()
        entry = (occupant, fut)
        self.join_waiters.append(entry)
        try:
            self.muc_presence(room, nick, True, cmd.get("password")).send()
            ev = await asyncio.wait_for(fut, self.timeout_of(cmd))
        except asyncio.TimeoutError:
            return {"type": "timeout"}
        finally:
            self.join_waiters.remove(entry)
        if ev["type"] == "error":
            return {"type": "error", "condition": ev["condition"],
                    "error_type": ev.get("error_type"), "xml": ev["xml"]}
        self.rooms[bare(room)] = nick
        return {"type": "joined", "codes": ev["codes"], "item": ev["item"],
                "xml": ev["xml"]}

    async def cmd_leave(self, cmd):
        room = cmd["room"]
        nick = self.rooms.get(bare(room))
        if nick is None:
            return {"type": "failure", "error": "not in room %s" % room}
        occupant = "%s/%s" % (room, nick)
        fut = self.loop.create_future()
        entry = (occupant, fut)
        self.leave_waiters.append(entry)
        try:
            pres = self.Presence()
            pres["to"] = occupant
            pres["type"] = "unavailable"
            pres.send()
            await asyncio.wait_for(fut, self.timeout_of(cmd))
        except asyncio.TimeoutError:
            return {"type": "timeout"}
        finally:
            self.leave_waiters.remove(entry)
            self.rooms.pop(bare(room), None)
        return {"type": "left"}

    async def query(self, to, child, cmd):
        """Send an IQ get with one child; (kind, reply xml, condition, type)."""
        iq = self.Iq()
        iq["type"] = "get"
        iq["to"] = to
        iq.xml.append(child)
        try:
            res = await iq.send(timeout=self.timeout_of(cmd))
            return "result", res, None, None
        except IqError as exc:
            cond, etype = error_of(exc.iq.xml)
            return "error", exc.iq, cond, etype
        except IqTimeout:
            return "timeout", None, None, None

    async def cmd_disco_info(self, cmd):
        q = ET.Element("{%s}query" % NS_DISCO_INFO)
        if cmd.get("node"):
            q.set("node", cmd["node"])
        kind, res, cond, etype = await self.query(cmd["jid"], q, cmd)
        if kind == "timeout":
            return {"type": "timeout"}
        if kind == "error":
            return {"type": "error", "condition": cond, "error_type": etype,
                    "xml": str(res)}
        query = res.xml.find("{%s}query" % NS_DISCO_INFO)
        identities, features = [], []
        if query is not None:
            for ident in query.findall("{%s}identity" % NS_DISCO_INFO):
                identities.append({
                    "category": ident.get("category"), "type": ident.get("type"),
                    "name": ident.get("name"),
                    "lang": ident.get("{http://www.w3.org/XML/1998/namespace}lang"),
                })
            for feat in query.findall("{%s}feature" % NS_DISCO_INFO):
                features.append(feat.get("var"))
        return {"type": "result", "identities": identities, "features": features,
                "xml": str(res)}

    async def cmd_ping(self, cmd):
        start = time.monotonic()
        kind, res, cond, etype = await self.query(
            cmd["jid"], ET.Element("{%s}ping" % NS_PING), cmd)
        out = {"type": kind, "rtt_ms": round((time.monotonic() - start) * 1000, 3)}
        if kind == "error":
            out.update(condition=cond, error_type=etype, xml=str(res))
        return out

    async def cmd_set_presence_extra(self, cmd):
        room = cmd["room"]
        self.extras[bare(room)] = cmd.get("xml") or ""
        nick = self.rooms.get(bare(room))
        if nick is None:
            return {"type": "ok", "sent": False}
        self.muc_presence(room, nick, False).send()
        return {"type": "ok", "sent": True}

    async def cmd_auto_ack_jingle(self, cmd):
        self.auto_ack = bool(cmd.get("on", True))
        return {"type": "ok", "on": self.auto_ack}

    async def cmd_add_features(self, cmd):
        for var in cmd.get("features") or []:
            self.plugin["xep_0030"].add_feature(var)
        return {"type": "ok"}

    async def cmd_connect(self, cmd):
        fut = self.loop.create_future()
        self.connected_waiters.append(fut)
        self.connect(self.args.host, self.args.port)
        try:
            await asyncio.wait_for(fut, self.timeout_of(cmd))
        except asyncio.TimeoutError:
            self.cancel_connection_attempt()
            return {"type": "failed"}
        return {"type": "connected", "jid": str(self.boundjid)}

    async def cmd_disconnect(self, cmd):
        self.cancel_connection_attempt()
        try:
            await asyncio.wait_for(self.disconnect(wait=1.0), self.timeout_of(cmd))
        except asyncio.TimeoutError:
            self.abort()
        return {"type": "disconnected"}

    async def cmd_quit(self, _cmd):
        self.cancel_connection_attempt()
        if self.transport is not None:
            try:
                await asyncio.wait_for(self.disconnect(wait=0.5), 1.0)
            except asyncio.TimeoutError:
                self.abort()
        return {"type": "ok"}

    def finish(self):
        if self.quit_future is not None and not self.quit_future.done():
            self.quit_future.set_result(True)


def read_stdin(loop, agent):
    """Blocking reads in a thread; each command runs as its own task."""
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            cmd = json.loads(line)
        except ValueError as exc:
            emit({"event": "reply", "tag": None, "cmd": None, "type": "failure",
                  "error": "bad JSON: %s" % exc})
            continue
        loop.call_soon_threadsafe(lambda c=cmd: asyncio.ensure_future(agent.dispatch(c)))
    # EOF: the harness has gone; leave at once.
    loop.call_soon_threadsafe(agent.finish)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jid", required=True,
                        help="bare JID; a bare domain means ANONYMOUS login")
    parser.add_argument("--password", default="")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca-file", help="PEM CA to verify the server against")
    parser.add_argument("--mechanism", help="force one SASL mechanism")
    parser.add_argument("--no-tls", action="store_true", help="plaintext c2s")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    agent = Agent(args)
    agent.quit_future = loop.create_future()
    threading.Thread(target=read_stdin, args=(loop, agent), daemon=True).start()
    agent.connect(args.host, args.port)
    loop.run_until_complete(agent.quit_future)
    sys.stdout.flush()
    # Skip interpreter teardown of slixmpp's pending tasks: nothing to save.
    import os
    os._exit(0)


if __name__ == "__main__":
    main()

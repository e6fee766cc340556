// One Jitsi Meet participant: lib-jitsi-meet in this page, connected over
// Prosody's websocket (same origin), joining ?room= with fake camera and
// microphone (Chromium's --use-fake-device-for-media-stream).
//
// The test reads `window.clientState()` (through driver.js). Ground truth
// comes from the wire and from the peer connection, not from the library's
// own bookkeeping:
//   - `jingle`: every Jingle IQ seen on the XMPP stream, in and out, with
//     its sources (ssrc, media, owner, msid) and SSRC groups, and the answer to
//     it (ours to the focus's requests, the focus's to ours: `answer` is
//     'result' or 'error', with `error` the condition), from Strophe's
//     xmlInput/xmlOutput hooks;
//   - `remote`: the SSRCs in the peer connection's current remote
//     description (what Chromium accepted), each with its `a=ssrc:… msid:`
//     and the owner the library recorded from the focus's
//     <ssrc-info owner=…>;
//   - `tracks`: remote tracks added/removed (conference events).
// Log lines are stamped with Date.now(): Playwright delivers console
// messages late and batched.
'use strict';

(function () {
    const params = new URLSearchParams(location.search);
    const roomName = (params.get('room') || 'browsertest').toLowerCase();
    const label = params.get('label') || 'client';
    const t0 = Date.now();

    const state = {
        label,
        room: roomName,
        phase: 'loading',
        errors: [],
        log: [],
        jid: null,
        myId: null,
        joined: false,
        iceFailed: false,
        conferenceFailures: [],
        focusIqSent: false,
        conferenceIq: null,
        jingle: [],
        tracks: [],
        participants: {},
        localTracks: []
    };
    window.__state = state;

    function log(msg) {
        state.log.push(`${Date.now() - t0}ms ${msg}`);
        if (state.log.length > 400) {
            state.log.splice(0, 100);
        }
    }
    function fail(where, e) {
        const text = `${where}: ${e && (e.stack || e.message || e.name) || e}`;
        state.errors.push(text);
        log(`ERROR ${text}`);
    }
    window.addEventListener('error', ev => fail('window.onerror', ev.error || ev.message));
    window.addEventListener('unhandledrejection', ev => fail('unhandled rejection', ev.reason));

    if (!window.JitsiMeetJS) {
        fail('load', 'JitsiMeetJS is not defined (lib-jitsi-meet.min.js missing? run scripts/install-test-deps)');
        return;
    }
    const J = window.JitsiMeetJS;

    // ---- the wire: Jingle IQs in and out, and the answers to ours --------
    // Jingle IQs awaiting an answer, by the direction they went in:
    // id -> index in state.jingle.
    const unanswered = { in: new Map(), out: new Map() };
    function jingleOf(iq) {
        for (const c of iq.children) {
            if (c.localName === 'jingle') {
                return c;
            }
        }
        return null;
    }
    function summarize(jingle) {
        const out = { action: jingle.getAttribute('action'), sid: jingle.getAttribute('sid'), sources: [] };
        for (const s of jingle.getElementsByTagName('source')) {
            const ssrc = s.getAttribute('ssrc');
            if (!ssrc || s.parentElement.localName === 'ssrc-group') {
                continue;
            }
            const info = s.getElementsByTagName('ssrc-info')[0];
            const desc = s.closest('description');
            const msid = Array.from(s.getElementsByTagName('parameter')).find(p => p.getAttribute('name') === 'msid');
            out.sources.push({
                ssrc: Number(ssrc),
                media: desc ? desc.getAttribute('media') : null,
                owner: info ? info.getAttribute('owner') : null,
                msid: msid ? msid.getAttribute('value') : null
            });
        }
        out.groups = [];
        for (const g of jingle.getElementsByTagName('ssrc-group')) {
            out.groups.push({
                semantics: g.getAttribute('semantics'),
                ssrcs: Array.from(g.getElementsByTagName('source')).map(s => Number(s.getAttribute('ssrc')))
            });
        }
        const fp = jingle.getElementsByTagName('fingerprint')[0];
        if (fp) {
            out.setup = fp.getAttribute('setup');
        }
        const reason = jingle.getElementsByTagName('reason')[0];
        if (reason && reason.firstElementChild) {
            out.reason = reason.firstElementChild.localName;
        }
        return out;
    }
    function stanzas(elem) {
        if (!elem) {
            return [];
        }
        if (elem.localName === 'iq') {
            return [ elem ];
        }
        return Array.from(elem.getElementsByTagName('iq'));
    }
    function onWire(dir, elem) {
        try {
            for (const iq of stanzas(elem)) {
                const type = iq.getAttribute('type');
                const id = iq.getAttribute('id');
                if (type === 'result' || type === 'error') {
                    const asked = unanswered[dir === 'in' ? 'out' : 'in'];
                    if (asked.has(id)) {
                        const e = state.jingle[asked.get(id)];
                        e.answer = type;
                        e.answeredAt = Date.now() - t0;
                        if (type === 'error') {
                            const err = iq.getElementsByTagName('error')[0];
                            e.error = err && err.firstElementChild ? err.firstElementChild.localName : 'error';
                        }
                        asked.delete(id);
                        log(`${dir} ${type} to ${dir === 'in' ? 'our' : 'their'} ${e.action}`);
                    }
                    continue;
                }
                const conf = iq.getElementsByTagName('conference')[0];
                // Built by Strophe, an outgoing element has xmlns as a plain attribute.
                if (dir === 'out' && conf && (conf.getAttribute('xmlns') || conf.namespaceURI) === 'http://jitsi.org/protocol/focus') {
                    state.focusIqSent = true;
                    state.conferenceIq = {
                        to: iq.getAttribute('to'),
                        room: conf.getAttribute('room'),
                        machineUid: conf.getAttribute('machine-uid'),
                        at: Date.now() - t0
                    };
                    log(`out conference IQ to ${iq.getAttribute('to')} for ${conf.getAttribute('room')}`);
                }
                const jingle = jingleOf(iq);
                if (!jingle) {
                    continue;
                }
                const e = Object.assign(summarize(jingle), {
                    dir,
                    at: Date.now() - t0,
                    peer: dir === 'in' ? iq.getAttribute('from') : iq.getAttribute('to')
                });
                state.jingle.push(e);
                unanswered[dir].set(id, state.jingle.length - 1);
                log(`${dir} jingle ${e.action} (${e.sources.length} sources) ${dir === 'in' ? 'from' : 'to'} ${e.peer}`);
            }
        } catch (e) {
            fail('wire hook', e);
        }
    }

    // ---- the peer connection: what Chromium accepted ---------------------
    function jvbSession() {
        return window.conference && window.conference.jvbJingleSession;
    }
    function remoteSources() {
        const s = jvbSession();
        const pc = s && s.peerconnection && s.peerconnection.peerconnection;
        const desc = pc && pc.remoteDescription;
        if (!desc) {
            return null;
        }
        const layer = window.conference._signalingLayer;
        const seen = new Map();
        let media = null;
        for (const line of desc.sdp.split(/\r?\n/)) {
            const m = /^m=(\w+)/.exec(line);
            if (m) {
                media = m[1];
                continue;
            }
            const a = /^a=ssrc:(\d+) /.exec(line);
            if (a && !seen.has(a[1])) {
                const ssrc = Number(a[1]);
                seen.set(a[1], {
                    ssrc,
                    media,
                    owner: layer && layer.getSSRCOwner(ssrc) || null,
                    msid: null
                });
            }
            const msid = /^a=ssrc:(\d+) msid:(.*)$/.exec(line);
            if (msid) {
                seen.get(msid[1]).msid = msid[2].trim();
            }
        }
        return {
            type: desc.type,
            sources: Array.from(seen.values())
        };
    }
    function localSources() {
        const s = jvbSession();
        const pc = s && s.peerconnection && s.peerconnection.peerconnection;
        const desc = pc && pc.localDescription;
        if (!desc) {
            return null;
        }
        const out = new Set();
        for (const line of desc.sdp.split(/\r?\n/)) {
            const a = /^a=ssrc:(\d+) /.exec(line);
            if (a) {
                out.add(Number(a[1]));
            }
        }
        return Array.from(out);
    }

    window.clientState = function () {
        const s = jvbSession();
        const pc = s && s.peerconnection && s.peerconnection.peerconnection;
        return Object.assign({}, state, {
            now: Date.now() - t0,
            remote: remoteSources(),
            local: localSources(),
            ice: pc ? pc.iceConnectionState : null,
            signaling: pc ? pc.signalingState : null
        });
    };

    // ---- the client ------------------------------------------------------
    J.init({ disableAudioLevels: true, disableThirdPartyRequests: true });
    J.setLogLevel(J.logLevels.WARN);

    const options = {
        hosts: {
            domain: 'meet.test',
            muc: 'conference.meet.test',
            focus: 'focus.meet.test'
        },
        serviceUrl: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/xmpp-websocket`,
        clientNode: 'https://jitsi.org/jitsi-meet',
        websocketKeepAlive: -1
    };
    const connection = new J.JitsiConnection(null, null, options);
    window.connection = connection;
    const strophe = connection.xmpp.connection._stropheConn;
    strophe.xmlInput = elem => onWire('in', elem);
    strophe.xmlOutput = elem => onWire('out', elem);

    window.leave = async function () {
        log('leaving');
        state.phase = 'leaving';
        try {
            if (window.conference) {
                await window.conference.leave();
            }
            await connection.disconnect();
            state.phase = 'left';
        } catch (e) {
            fail('leave', e);
        }
        return state.phase;
    };

    connection.addEventListener(J.events.connection.CONNECTION_FAILED, (e, msg) => {
        fail('connection failed', `${e} ${msg || ''}`);
        state.phase = 'connection-failed';
    });
    connection.addEventListener(J.events.connection.CONNECTION_DISCONNECTED, () => log('disconnected'));
    connection.addEventListener(J.events.connection.CONNECTION_ESTABLISHED, () => {
        state.jid = connection.xmpp.connection.jid;
        state.phase = 'connected';
        log(`connected as ${state.jid}`);
        J.createLocalTracks({ devices: [ 'audio', 'video' ] })
            .then(tracks => {
                state.localTracks = tracks.map(t => t.getType());
                log(`local tracks: ${state.localTracks.join(',')}`);
                join(tracks);
            })
            .catch(e => {
                fail('createLocalTracks', e);
                join([]);
            });
    });

    function join(tracks) {
        const C = J.events.conference;
        const conference = connection.initJitsiConference(roomName, {
            p2p: { enabled: false },
            disableSimulcast: false
        });
        window.conference = conference;
        conference.on(C.CONFERENCE_JOINED, () => {
            state.joined = true;
            state.myId = conference.myUserId();
            state.phase = 'joined';
            log(`joined as ${state.myId}`);
        });
        conference.on(C.CONFERENCE_FAILED, e => {
            state.conferenceFailures.push(String(e));
            // The emulated bridge carries no media, so ICE fails after a
            // while. A focus advertising support-terminate-restart gets a
            // session-terminate asking for a new session instead; without
            // it the library raises this: recorded, not an error of the
            // signalling under test.
            if (e === J.errors.conference.ICE_FAILED) {
                state.iceFailed = true;
                log('conference failed: ICE failed (no media through the emulated bridge)');
                return;
            }
            // The focus's <bridgeNotAvailable/> presence: what a test
            // without a bridge expects (the others check
            // conferenceFailures); the conference goes on.
            if (e === J.errors.conference.VIDEOBRIDGE_NOT_AVAILABLE) {
                log('conference failed: the focus says no bridge is available');
                return;
            }
            fail('conference failed', e);
            state.phase = 'conference-failed';
        });
        conference.on(C.CONFERENCE_ERROR, e => fail('conference error', e));
        conference.on(C.USER_JOINED, (id, user) => {
            state.participants[id] = { jid: user.getJid(), left: false };
            log(`user joined ${id}`);
        });
        conference.on(C.USER_LEFT, id => {
            if (state.participants[id]) {
                state.participants[id].left = true;
            }
            log(`user left ${id}`);
        });
        conference.on(C.TRACK_ADDED, t => {
            if (t.isLocal()) {
                return;
            }
            state.tracks.push({ event: 'added', owner: t.getParticipantId(), type: t.getType(), at: Date.now() - t0 });
            log(`remote ${t.getType()} track added for ${t.getParticipantId()}`);
        });
        conference.on(C.TRACK_REMOVED, t => {
            if (t.isLocal()) {
                return;
            }
            state.tracks.push({ event: 'removed', owner: t.getParticipantId(), type: t.getType(), at: Date.now() - t0 });
            log(`remote ${t.getType()} track removed for ${t.getParticipantId()}`);
        });
        for (const t of tracks) {
            conference.addTrack(t).catch(e => fail('addTrack', e));
        }
        state.phase = 'joining';
        conference.join();
    }

    state.phase = 'connecting';
    connection.connect();
}());

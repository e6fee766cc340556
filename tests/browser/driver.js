// Drives Debian's Chromium with playwright-core for tests/real_client.rs.
//
//   node tests/browser/driver.js
//
// One browser, one context (own storage, so own machine-uid) per client.
// Commands arrive on stdin, one JSON object a line, each with a `seq`:
//   {"seq":1,"cmd":"open","client":"a","url":"http://127.0.0.1:P/index.html?room=r&label=a"}
//   {"seq":2,"cmd":"state","client":"a"}      -> the page's window.clientState()
//   {"seq":3,"cmd":"leave","client":"a"}      -> conference.leave(), disconnect, close
//   {"seq":4,"cmd":"close","client":"a"}      -> close the page at once
//   {"seq":5,"cmd":"quit"}
// Every answer is one JSON line on stdout with the same `seq`
// ({"seq":1,"ok":true,...} or {"seq":1,"ok":false,"error":"..."}); lines
// without `seq` are events: {"event":"ready",...} once the browser is up,
// {"event":"console"|"pageerror",...} from the pages, {"event":"fatal",...}.
// The browser is never downloaded: CHROMIUM (default /usr/bin/chromium),
// Debian's package, installed by scripts/install-test-deps. The driver
// closes the browser and exits when stdin ends.
'use strict';

const readline = require('readline');
const fs = require('fs');

const t0 = Date.now();
function emit(obj) {
    process.stdout.write(`${JSON.stringify(Object.assign({ ms: Date.now() - t0 }, obj))}\n`);
}

let playwright;
try {
    playwright = require('playwright-core');
} catch (e) {
    emit({ event: 'fatal', error: `playwright-core is not installed next to driver.js (run scripts/install-test-deps): ${e.message}` });
    process.exit(2);
}
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(executablePath)) {
    emit({ event: 'fatal', error: `no Chromium at ${executablePath} (run scripts/install-test-deps)` });
    process.exit(2);
}

// The flags proven on this kind of machine (shared/peers.md). Playwright
// adds --headless and a fresh temporary --user-data-dir for every launch.
const ARGS = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    '--disable-features=WebRtcHideLocalIpsWithMdns',
    // Loopback only: no name is resolved (the pages are at 127.0.0.1;
    // the bridge's colibri web-socket URL names wss://meet.test, which
    // must fail here, not leave the machine as a DNS query).
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'
];

const clients = new Map(); // name -> { context, page }
let browser = null;
let quitting = false;

async function quit(code) {
    if (quitting) {
        return;
    }
    quitting = true;
    try {
        if (browser) {
            await browser.close();
        }
    } catch (e) {
        // already gone
    }
    process.exit(code);
}

async function handle(msg) {
    const c = clients.get(msg.client);
    switch (msg.cmd) {
    case 'open': {
        if (c) {
            throw new Error(`client ${msg.client} is already open`);
        }
        const context = await browser.newContext();
        const page = await context.newPage();
        page.on('console', m => {
            if (m.type() === 'error' || m.type() === 'warning' || process.env.DRIVER_CONSOLE) {
                emit({ event: 'console', client: msg.client, type: m.type(), text: m.text().slice(0, 2000) });
            }
        });
        page.on('pageerror', e => emit({ event: 'pageerror', client: msg.client, text: String(e).slice(0, 2000) }));
        clients.set(msg.client, { context, page });
        await page.goto(msg.url, { waitUntil: 'load', timeout: 15000 });
        return {};
    }
    case 'state': {
        if (!c) {
            throw new Error(`no client ${msg.client}`);
        }
        const state = await c.page.evaluate(() => (window.clientState ? window.clientState() : window.__state || null));
        return { state };
    }
    case 'leave': {
        if (!c) {
            throw new Error(`no client ${msg.client}`);
        }
        const phase = await c.page.evaluate(() => window.leave());
        await c.context.close();
        clients.delete(msg.client);
        return { phase };
    }
    case 'close': {
        if (!c) {
            throw new Error(`no client ${msg.client}`);
        }
        await c.context.close();
        clients.delete(msg.client);
        return {};
    }
    case 'quit':
        setImmediate(() => quit(0));
        return {};
    default:
        throw new Error(`unknown command ${msg.cmd}`);
    }
}

async function main() {
    browser = await playwright.chromium.launch({
        executablePath,
        headless: true,
        args: ARGS,
        timeout: 30000
    });
    emit({ event: 'ready', version: browser.version() });
    const rl = readline.createInterface({ input: process.stdin });
    rl.on('line', line => {
        if (!line.trim()) {
            return;
        }
        let msg;
        try {
            msg = JSON.parse(line);
        } catch (e) {
            emit({ event: 'bad-command', line });
            return;
        }
        handle(msg).then(
            r => emit(Object.assign({ seq: msg.seq, ok: true }, r)),
            e => emit({ seq: msg.seq, ok: false, error: String(e && e.message || e) })
        );
    });
    rl.on('close', () => quit(0));
}

process.on('SIGTERM', () => quit(0));
main().catch(e => {
    emit({ event: 'fatal', error: String(e && e.stack || e) });
    quit(1);
});

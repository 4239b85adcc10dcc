// Put by `book-gen browser-check` (crates/book-gen/src/browser.rs) at the top of the <head> of
// every page it serves to headless Chromium; it is not part of the book. It records what only a
// loaded page knows (an image that did not load, a resource or a script that failed, a code block
// a reader sees as empty, the search's results) and, once the page has loaded, writes it as JSON
// into a hidden <pre> with the id book-check-result, which Chromium's --dump-dom prints and browser.rs
// parses. Links and anchors are checked in Rust, on the dumped DOM of every page.
(function () {
    'use strict';
    const problems = [];
    const record = (what, element) => problems.push({ what, element: String(element).slice(0, 300) });
    // An element's opening tag, to name it in a message.
    const tag = el => el.outerHTML.replace(/>[\s\S]*$/, '>');
    // Where an element is: the id of the last heading before it.
    const place = el => {
        let id = '';
        for (const h of document.querySelectorAll('h1[id], h2[id], h3[id], h4[id], h5[id], h6[id]')) {
            if (h.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) {
                id = h.id;
            } else {
                break;
            }
        }
        return id === '' ? 'before the first heading' : `under #${id}`;
    };

    // Capturing, so that a <script>, <link> or <img> that failed to load is seen too.
    window.addEventListener('error', e => {
        const t = e.target;
        if (t && t !== window && t.tagName) {
            if (t.tagName !== 'IMG') { // images are checked one by one below
                record('resource failed to load', tag(t));
            }
        } else {
            record('script error', `${e.message} (${e.filename}:${e.lineno})`);
        }
    }, true);
    window.addEventListener('unhandledrejection', e => record('script error', `unhandled rejection: ${e.reason}`));
    const consoleError = console.error;
    console.error = (...args) => {
        record('console error', args.join(' '));
        consoleError.apply(console, args);
    };

    function finish(search) {
        for (const img of document.images) {
            if (!(img.complete && img.naturalWidth > 0)) {
                record('image did not load', `${tag(img)} ${place(img)}`);
            }
        }
        // innerText: what a reader sees (hidden lines of a Rust block do not count), with every
        // <details> open, as a reader opens it (a closed one's content has no innerText).
        const closed = Array.from(document.querySelectorAll('details:not([open])'));
        closed.forEach(d => { d.open = true; });
        for (const code of document.querySelectorAll('pre > code')) {
            if (code.innerText.trim() === '') {
                record('empty code block', `${tag(code)} ${place(code)}`);
            }
        }
        closed.forEach(d => { d.open = false; });
        const out = document.createElement('pre');
        out.id = 'book-check-result';
        out.hidden = true;
        // No &, <, > or no-break space in the text, so that the dumped DOM has it as written.
        out.textContent = JSON.stringify({ problems, search })
            .replace(/[&<>\u00a0]/g, c => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
        document.body.appendChild(out);
    }

    window.addEventListener('load', () => {
        const term = new URLSearchParams(location.search).get('search');
        if (term === null) {
            setTimeout(() => finish(null), 200);
            return;
        }
        // mdBook's searcher.js opens the search for ?search=, loads the index, and fills the
        // results header; wait for it (in Chromium's virtual time, which runs ahead when idle).
        let waited = 0;
        const poll = () => {
            const header = document.getElementById('mdbook-searchresults-header');
            const text = header ? header.innerText.trim() : '';
            if (text !== '' || waited >= 3000) {
                const links = document.querySelectorAll('#mdbook-searchresults li > a');
                finish({ term, header: text, results: Array.from(links, a => a.getAttribute('href')) });
            } else {
                waited += 100;
                setTimeout(poll, 100);
            }
        };
        poll();
    });
})();

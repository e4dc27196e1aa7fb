// Package web is the block explorer every node serves at "/": plain HTML,
// CSS and small JavaScript modules embedded in the binary, with no build
// step and nothing fetched from another site. The pages read the node's
// own JSON API (/api/v1/...) and follow its event stream
// (/api/v1/events), so they stay live without reloads.
//
// # Layout
//
//	static/index.html      the shell: header, navigation, search, <main>
//	static/style.css       one stylesheet, light and dark, phone widths
//	static/app.js          hash router, the one event stream, page lifecycle
//	static/lib.js          DOM building (text only, never HTML), formatting, fetch
//	static/svg.js          the small SVG line-chart and tree drawing helpers
//	static/pages/*.js      one module per page
//
// Pages are addressed by the URL fragment (/#/block/12, /#/tx/<id>, ...)
// because the tutorials own /blocks, /peers and /chain on the same
// address. A page module exports title and render(main, params, app);
// render may return {onEvent(type, data), stop()} to follow the stream.
// Adding a page (the devnet's network view, say) is one module and one
// line in app.js's route table.
//
// # Safety
//
// Block data notes, memos and every other value from the API are inserted
// with textContent or attribute setters, never as HTML; Handler sends a
// Content-Security-Policy that allows scripts, styles and connections to
// this origin only and no inline script at all.
package web

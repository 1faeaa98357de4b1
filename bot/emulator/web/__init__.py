"""The emulator as a Slack-like web page: channels, cards, threads, modals, a composer.

Server-rendered HTML from the emulator's stored messages (block_html.py, page.py), a little
JavaScript (static/page.js) that polls for changes and sends forms, and the routes that turn
a click into the signed request Slack would send the app (interact.py, routes.py).
"""

"""The demo feed: realistic shop stories played into `kefu.inbound` (see `kefu demo`).

`scenarios` generates the stories (pure, seeded), `feed.run_feed` plays them in
compressed real time.
"""

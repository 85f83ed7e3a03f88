"""asv benchmark suite for fastlr (see docs/user_guide/tracking.rst and asv.conf.json)."""

"""Reference devices: small physical models a vendor would believe, driven by the client through a
:class:`gridhan.client.situation.Situation`."""

"""The URL blocking list without Django: Safe Browsing expressions (``expressions``), the signed
snapshot/diff format (``listformat``), the blinded confirmation (``oprf``) and the reference client
(``client``) that resolvers, proxies and ``openmnr urllist check`` use."""

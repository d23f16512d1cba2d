"""Built-in 亲青汇 plugins, each registered through the ``qqh.plugins`` entry-point group."""

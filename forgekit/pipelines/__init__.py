"""forgekit.pipelines"""

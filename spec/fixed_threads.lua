-- Loaded by busted before the specs (.busted's helper): the specs count
-- primitives created and compare results bit for bit, so their thread count
-- must not follow the machine's load (cnn.adaptive_threads); threads_spec.lua
-- turns adapting on where it tests it.
require("cnn.core").adaptive_threads(false)

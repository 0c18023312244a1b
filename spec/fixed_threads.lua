-- Loaded by busted before the specs (.busted's helper): the specs count
-- primitives created and compare results bit for bit, so their thread count
-- must not follow the machine's load (cnn.adaptive_threads); threads_spec.lua
-- turns adapting on where it tests it. The setting lives in the C library,
-- which stays loaded; the module is dropped from package.loaded so that each
-- spec file loads cnn afresh, as busted's insulation expects.
require("cnn.core").adaptive_threads(false)
package.loaded["cnn.core"] = nil

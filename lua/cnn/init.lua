--- cnnlua: convolutional networks in Lua on oneDNN.
-- `local cnn = require "cnn"` gives one flat table, as Flux's `using Flux`
-- does: tensors, layers, losses, optimisers, data and training.
-- @module cnn

local cnn = {}

--- The C module underneath: tensors and kernels on oneDNN, without autodiff.
-- @table core
-- @usage local y = cnn.core.add(a, b) -- not recorded by gradient
cnn.core = require "cnn.core"

-- Each part returns a table of public names; later parts may build on the
-- earlier ones through `cnn` (passed to them), never through globals.
local parts = {
  "cnn.tensor",
  "cnn.math",
  "cnn.autograd", "cnn.ops", "cnn.activations", "cnn.losses",
  "cnn.initialisers", "cnn.layers", "cnn.optimisers", "cnn.data", "cnn.datasets",
  "cnn.checkpoint",
  "cnn.utils",
  "cnn.train",
  "cnn.profile",
}

for _, name in ipairs(parts) do
  local part = require(name)
  if type(part) == "function" then part = part(cnn) end
  for k, v in pairs(part) do
    cnn[k] = v
  end
end

return cnn

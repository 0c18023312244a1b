--- cnnlua: convolutional networks in Lua on oneDNN.
-- `local cnn = require "cnn"` gives one flat table, as Flux's `using Flux`
-- does: tensors, layers, losses, optimisers, data and training.
-- @module cnn

local cnn = {}

--- The C module underneath: tensors and kernels on oneDNN, without autodiff.
-- @table core
-- @usage local y = cnn.core.add(a, b) -- not recorded by gradient
cnn.core = require "cnn.core"

-- The modules that make up `cnn`, in order, each with the names it gives
-- (all of its fields when none are listed). A later module may replace a
-- name: the recording `exp` of cnn.ops replaces core's. Every module
-- requires what it uses itself.
local parts = {
  {"cnn.tensor"},
  {"cnn.math"},
  {"cnn.autograd", "gradient", "withgradient", "op", "item", "istracked", "isrecording"},
  {"cnn.ops.algebra", "matmul", "transpose", "exp", "log", "sqrt", "abs"},
  {"cnn.ops.shapes", "reshape", "flatten"},
  {"cnn.ops.rearrange"},
  {"cnn.ops.reductions"},
  {"cnn.ops.kernels"},
  {"cnn.ops.syncbatchnorm"},
  {"cnn.ops.sampling"},
  {"cnn.ops.compare", "max", "min"},
  {"cnn.activations"},
  {"cnn.losses"},
  {"cnn.initialisers"},
  {"cnn.layers"},
  {"cnn.optimisers"},
  {"cnn.data", "onehot", "onehotbatch", "onecold", "DataLoader", "ncycle"},
  {"cnn.images", "saveimage", "loadimage"},
  {"cnn.transforms", "RandomCrop", "RandomShift", "RandomFlip", "Normalize", "Compose"},
  {"cnn.checkpoint", "savemodel", "loadmodel"},
  {"cnn.resume", "savecheckpoint", "loadcheckpoint"},
  {"cnn.callbacks"},
  {"cnn.utils"},
  {"cnn.quantize", "quantize"},
  {"cnn.train"},
  {"cnn.history", "History"},
  {"cnn.plot"},
  {"cnn.figure"},
  {"cnn.profile"},
  {"cnn.threads"},
  {"cnn.precision", "precision"},
  {"cnn.help", "help"},
}

for _, part in ipairs(parts) do
  local module = require(part[1])
  if #part == 1 then
    for k, v in pairs(module) do cnn[k] = v end
  else
    for i = 2, #part do cnn[part[i]] = module[part[i]] end
  end
end

-- The table of every differentiable op, the data sets, and the job of
-- processes that mpirun starts.
cnn.ops = require "cnn.ops"
cnn.datasets = require "cnn.datasets"
cnn.distributed = require "cnn.distributed"

return cnn

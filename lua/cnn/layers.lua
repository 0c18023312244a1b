--- Layers and models, as in Flux: Chain, Conv, DepthwiseConv,
-- ConvTranspose, MaxPool, MeanPool, GlobalMaxPool, GlobalMeanPool,
-- AdaptiveMaxPool, AdaptiveMeanPool, Upsample, Dense, Embedding, Dropout,
-- BatchNorm, LayerNorm, GroupNorm, InstanceNorm, Flatten,
-- SkipConnection, Parallel, and
-- the functions that walk a model: params, trainmode, testmode, summary,
-- outputsize, loadparams.
--
-- A layer is a callable table: `y = layer(x)`. A layer written in a
-- script needs nothing more: a table with its trainable tensors in its
-- fields (directly or in tables inside them) and a `__call`, e.g.
-- `setmetatable({scale = cnn.ones(1, 1, 8, 1)}, {__call = function(self,
-- x) return x * self.scale end})`, is found by params, printed ("Layer(scale)",
-- or its own `__tostring`), summarised, saved and loaded, as Flux's
-- functors are. A Lua function in a Chain is looked into the same way,
-- through its upvalues: the layers and tensors it uses are the model's
-- (modules, the globals and the library's own functions are not). It computes with the
-- differentiable ops, so `cnn.gradient` sees through it. Each layer lives
-- in its own file under `cnn/layers/`, what they share in
-- cnn.layers.base; this file gathers the public names.
--
-- To add a layer: a file cnn/layers/Name.lua makes a class with
-- `base.class("Name")`, a `build(...)` that checks its arguments (argcheck)
-- and returns the instance, and the methods `forward` and `describe`, and
-- where they apply `check` (a message for an input that does not fit),
-- `parameters`, `children`, `nontrainable` and `set_mode`; it returns
-- `base.constructor(build, Name)` under a doc comment naming it
-- (`@function Name`). One line in the table below makes it public. params,
-- summary, trainmode/testmode, savemodel and the printed model find its
-- tensors and sublayers through those methods.
-- @module cnn.layers

local conv = require "cnn.layers.Conv"
local pool = require "cnn.layers.Pool"
local global = require "cnn.layers.GlobalPool"
local adaptive = require "cnn.layers.AdaptivePool"
local flatten = require "cnn.layers.Flatten"
local models = require "cnn.layers.models"

local layers = {
  Chain = require "cnn.layers.Chain",
  Conv = conv.Conv,
  DepthwiseConv = conv.DepthwiseConv,
  ConvTranspose = require "cnn.layers.ConvTranspose",
  MaxPool = pool.MaxPool,
  MeanPool = pool.MeanPool,
  GlobalMaxPool = global.GlobalMaxPool,
  GlobalMeanPool = global.GlobalMeanPool,
  AdaptiveMaxPool = adaptive.AdaptiveMaxPool,
  AdaptiveMeanPool = adaptive.AdaptiveMeanPool,
  Upsample = require "cnn.layers.Upsample",
  Dense = require "cnn.layers.Dense",
  Embedding = require "cnn.layers.Embedding",
  Dropout = require "cnn.layers.Dropout",
  BatchNorm = require "cnn.layers.BatchNorm",
  LayerNorm = require "cnn.layers.LayerNorm",
  GroupNorm = require "cnn.layers.GroupNorm",
  InstanceNorm = require "cnn.layers.InstanceNorm",
  SkipConnection = require "cnn.layers.SkipConnection",
  Parallel = require "cnn.layers.Parallel",
  Flatten = flatten.Flatten,
  flatten = flatten.flatten,
  loadparams = require "cnn.layers.loadparams",
}
for k, v in pairs(models) do layers[k] = v end

return layers

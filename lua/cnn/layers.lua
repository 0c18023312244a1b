--- Layers and models, as in Flux: Chain, Conv, MaxPool, MeanPool,
-- GlobalMaxPool, GlobalMeanPool, Dense, Dropout, BatchNorm, Flatten, and
-- the functions that walk a model: params, trainmode, testmode, summary,
-- outputsize.
--
-- A layer is a callable table: `y = layer(x)`. It computes with the
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

local pool = require "cnn.layers.Pool"
local global = require "cnn.layers.GlobalPool"
local flatten = require "cnn.layers.Flatten"
local models = require "cnn.layers.models"

local layers = {
  Chain = require "cnn.layers.Chain",
  Conv = require "cnn.layers.Conv",
  MaxPool = pool.MaxPool,
  MeanPool = pool.MeanPool,
  GlobalMaxPool = global.GlobalMaxPool,
  GlobalMeanPool = global.GlobalMeanPool,
  Dense = require "cnn.layers.Dense",
  Dropout = require "cnn.layers.Dropout",
  BatchNorm = require "cnn.layers.BatchNorm",
  Flatten = flatten.Flatten,
  flatten = flatten.flatten,
}
for k, v in pairs(models) do layers[k] = v end

return layers

--- Layers and models, as in Flux: Chain, Conv, MaxPool, MeanPool,
-- GlobalMaxPool, GlobalMeanPool, Dense, Dropout, BatchNorm, Flatten, and
-- the functions that walk a model: params, trainmode, testmode, summary,
-- outputsize.
--
-- A layer is a callable table: `y = layer(x)`. It computes with the
-- differentiable ops, so `cnn.gradient` sees through it. Each layer lives
-- in its own file under `cnn/layers/`, what they share in
-- cnn.layers.base; this file gathers the public names.
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

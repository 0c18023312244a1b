--- The functions over a whole model as the user calls them: params,
-- trainmode, testmode, summary and outputsize check their arguments here,
-- then run cnn.layers.walk.
-- @module cnn.layers.models

local argcheck = require "cnn.argcheck"
local errors = require "cnn.errors"
local walk = require "cnn.layers.walk"

local models = {}

-- A model is a layer, a Chain, or any function or callable of one input.
local function check_model(fname, what, model)
  if not argcheck.is_callable(model) then
    argcheck.fail(fname, what, "a layer or a model such as a Chain", model)
  end
end

--- The trainable tensors of one or more models, in layer order (weight
-- before bias), each once: a list for `cnn.gradient` and `cnn.update`.
-- @param ... models (layers, Chains; a function has no parameters)
-- @treturn table a list of tensors
-- @usage local ps = cnn.params(model)
-- @function params
function models.params(...)
  for i = 1, select("#", ...) do check_model("params", ("model %d"):format(i), (select(i, ...))) end
  return walk.params(...)
end

local FLAGS = {true, false, "auto"}

local function mode_setter(fname, set)
  return function(model, flag, ...)
    argcheck.arity(fname, 2, "model, flag", model, flag, ...)
    check_model(fname, "model", model)
    if flag ~= nil then argcheck.choice(fname, "flag", flag, FLAGS) end
    return set(model, flag)
  end
end

--- Puts Dropout and BatchNorm layers of a model in training mode (active
-- even outside a gradient call), as Flux's trainmode!. `flag` false
-- means test mode, "auto" restores the default (active exactly inside a
-- gradient call).
-- @param model a layer or a Chain
-- @param[opt] flag true (the default), false or "auto"
-- @return model
-- @usage cnn.trainmode(model)
-- @function trainmode
models.trainmode = mode_setter("trainmode", walk.trainmode)

--- Puts Dropout and BatchNorm layers in test mode (inactive even inside
-- a gradient call), as Flux's testmode!; `flag` false means train mode,
-- "auto" the default.
-- @param model a layer or a Chain
-- @param[opt] flag true (the default), false or "auto"
-- @return model
-- @usage cnn.testmode(model)
-- @function testmode
models.testmode = mode_setter("testmode", walk.testmode)

local function check_sizes(fname, sizes)
  if type(sizes) ~= "table" then
    argcheck.raise(fname .. ": input sizes must be a table such as {28, 28, 1, 1}")
  end
  argcheck.sizes(fname, "input sizes", sizes)
end

-- f(model, sizes) from walk once the arguments are checked.
local function sized(fname, f)
  return function(model, sizes, ...)
    argcheck.arity(fname, 2, "model, sizes", model, sizes, ...)
    check_model(fname, "model", model)
    check_sizes(fname, sizes)
    return errors.call(f, model, sizes)
  end
end

--- A table of the model's layers with the output size of each for an
-- input of the given sizes (the model runs once on zeros, in test mode),
-- their parameter counts and the total.
-- @param model a layer, a Chain or a function
-- @tparam table sizes the input's sizes, positive integers
-- @treturn string the table (print it)
-- @usage print(cnn.summary(model, {28, 28, 1, 1}))
-- @function summary
models.summary = sized("summary", walk.summary)

--- The sizes of the model's output for an input of the given sizes, as
-- Flux's outputsize: the model runs once on zeros, in test mode.
-- @param model a layer, a Chain or a function
-- @tparam table sizes the input's sizes, positive integers
-- @treturn table the sizes
-- @usage cnn.outputsize(model, {28, 28, 1, 1}) --> {10, 1}
-- @function outputsize
models.outputsize = sized("outputsize", walk.outputsize)

return models

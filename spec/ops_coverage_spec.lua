-- Every public function of cnn, of cnn.ops, and every method and
-- metamethod of tensors, is in exactly one of three lists:
--
-- (a) differentiable: its gradient is checked here against central finite
--     differences (helpers.gradcheck, on Float32 tensors, the only float
--     type, with the default tolerances unless noted), on small inputs
--     away from kinks;
-- (b) not differentiable but reachable on tensors: called inside
--     cnn.gradient on a tracked tensor, it either refuses with an error
--     naming it, or gives a value that is not a tracked tensor and that
--     does not change when its input moves slightly (its derivative is
--     zero there, so not recording it loses nothing);
-- (c) not a tensor op: constructors, layers, training, display.
--
-- A name in none of the lists fails the first test, so that a new public
-- function forces a decision.
local cnn = require "cnn"
local helpers = require "helpers"

local core = cnn.core
local check = helpers.gradcheck
local data, wsum = helpers.smooth_data, helpers.wsum

-- The public surface: qualified name -> function (or table).
local function surface()
  local names = {}
  for k, v in pairs(cnn) do names["cnn." .. k] = v end
  for k, v in pairs(cnn.ops) do names["cnn.ops." .. k] = v end
  for k, v in pairs(cnn.Tensor.methods) do names["Tensor:" .. k] = v end
  for k, v in pairs(cnn.Tensor) do
    if type(v) == "function" then names["Tensor." .. k] = v end
  end
  return names
end

-- (a) Differentiable ------------------------------------------------------

-- Gradient checks by kind; each takes the function under test.
local checks = {}

function checks.unary(f)
  check(function(x) return wsum(f(x)) end, {data({4, 3}, 23)})
end

function checks.positive(f) -- log, sqrt
  check(function(x) return wsum(f(x)) end, {data({4, 3}, 20, true)})
end

function checks.binary(f) -- with broadcasting, and numbers on either side
  local a, b, r = data({3, 2}, 1), data({3}, 2), data({1, 2}, 3)
  check(function(x, y) return wsum(f(x, y)) end, {a, b})
  check(function(x, y) return wsum(f(y, x)) end, {a, r})
  check(function(x) return wsum(f(x, 2.5)) end, {a})
  check(function(x) return wsum(f(1.5, x)) end, {a})
end

function checks.pow(f)
  local a = data({2, 3}, 4, true)
  check(function(x) return wsum(f(x, 3)) end, {a})
  check(function(x, p) return wsum(f(x, p)) end, {a, data({2, 3}, 5)})
  check(function(p) return wsum(f(2, p)) end, {data({3}, 6)})
end

function checks.matmul(f)
  check(function(a, b) return wsum(f(a, b)) end, {data({3, 4}, 10), data({4, 2}, 11)})
  check(function(a, v) return wsum(f(a, v)) end, {data({3, 4}, 12), data({4}, 13)})
end

function checks.transpose(f)
  check(function(a) return wsum(f(a)) end, {data({3, 2}, 14)})
end

function checks.reshape(f)
  check(function(x) return wsum(f(x, 3, 4)) end, {data({2, 6}, 15)})
  check(function(x) return wsum(f(x, -1)) end, {data({2, 3}, 16)})
end

function checks.flatten(f)
  check(function(x) return wsum(f(x)) end, {data({2, 2, 3, 2}, 17)})
end

function checks.reduction(f) -- sum, mean: whole, and along each dimension
  local x = data({3, 4}, 18)
  check(function(y) return f(y) * 2 end, {x})
  for dim = 1, 2 do check(function(y) return wsum(f(y, dim)) end, {x}) end
end

-- Apart by more than the finite differences' step along every row and
-- column, so that the largest and smallest are unique.
local SPREAD = {{0.1, 0.9, -0.5, 0.3}, {-1.2, 0.6, 1.5, -0.8}, {0.7, -0.2, 0.4, 1.1}}

function checks.extremum(f) -- maximum, minimum: whole and along a dimension
  local a = cnn.tensor(SPREAD)
  check(function(x) return f(x) * 2 end, {a})
  for dim = 1, 2 do check(function(x) return wsum(f(x, dim)) end, {a}) end
end

function checks.elementwise(f) -- max.(a, b), min.(a, b)
  local a, b = data({3, 2}, 4), data({3}, 5)
  check(function(x, y) return wsum(f(x, y)) end, {a, b})
  check(function(x) return wsum(f(x, 0.3)) end, {a})
  check(function(x) return wsum(f(-0.3, x)) end, {a})
end

function checks.select(f)
  check(function(x) return wsum(f(x, 2, 3)) end, {data({3, 4, 2}, 40)})
  check(function(x) return wsum(f(f(x, 3, 2), 1, 1)) end, {data({3, 4, 2}, 41)}) -- of a view
end

function checks.slice(f) -- slice(x, dim, first, last) and narrow(x, dim, first, len)
  check(function(x) return wsum(f(x, 1, 2, 2)) end, {data({3, 4, 2}, 42)})
  check(function(x) return wsum(f(f(x, 2, 2, 2), 3, 1, 1)) end, {data({3, 4, 2}, 43)})
end

function checks.sum_to(f)
  check(function(x) return wsum(f(x, {4, 1})) end, {data({4, 3}, 44)})
  check(function(x) return wsum(f(x, {1, 3})) end, {data({4, 3}, 45)})
end

function checks.get(f) -- linear index and one index per dimension
  check(function(x) return f(x, 5) * 3 + f(x, 1, 3) - f(f(x, 2, 1) * x, 7) end, {data({4, 3}, 46)})
end

function checks.index() -- t[i], t[i][j], t[{i, j}], views of views
  check(function(x)
    return wsum(x[2]) + x[3][1] * 2 + x[{1, 2}] + wsum(x:slice(2, 2, 3)[1]:narrow(1, 2, 2))
  end, {data({4, 3}, 47)})
end

function checks.unm()
  check(function(x) return wsum(-x) end, {data({4, 3}, 48)})
end

function checks.activation_a(f) -- leakyrelu, elu: with and without their parameter
  local x = data({4, 3}, 23)
  check(function(y) return wsum(f(y)) end, {x})
  check(function(y) return wsum(f(y, 0.2)) end, {x})
end

function checks.hardtanh(f) -- away from the bounds, where the gradient jumps
  local x = data({4, 3}, 23)
  check(function(y) return wsum(f(y * 0.5)) end, {x})
  check(function(y) return wsum(f(y, -0.7, 0.5)) end, {x})
end

function checks.clip(f) -- relu6, hardsigmoid: away from the kinks, and past the upper one
  local x = data({4, 3}, 23)
  check(function(y) return wsum(f(y * 2)) end, {x})
  check(function(y) return wsum(f(y * 1.5 + 6)) end, {x})
end

function checks.cat(f)
  check(function(a, b) return wsum(f(a, b, {dims = 2})) end, {data({3, 2}, 61), data({3, 4}, 62)})
  check(function(a, b, c) return wsum(f(a, b, c, {dims = 3})) end, {data({2, 3}, 63), data({2, 3}, 64),
    data({2, 3}, 65)})
end

function checks.flip(f)
  local x = data({3, 4, 2}, 66)
  check(function(y) return wsum(f(y)) end, {x})
  check(function(y) return wsum(f(y, 2) * y) end, {x})
end

function checks.pad(f)
  check(function(y) return wsum(f(y, {{1, 2}, {0, 1}}, 0.5)) end, {data({3, 2}, 67)})
end

function checks.repeat_(f)
  check(function(y) return wsum(f(y, 2, 1, 3)) end, {data({3, 2}, 68)})
end

function checks.conv2d(f)
  local x, w, b = data({5, 4, 2, 2}, 24), data({3, 3, 2, 3}, 25), data({3}, 26)
  check(function(a, k, c) return wsum(f(a, k, c, {pad = {1, 1, 1, 1}})) end, {x, w, b})
  check(function(a, k) return wsum(f(a, k, nil, {stride = {2, 1}})) end, {x, w})
end

function checks.deconv2d(f)
  local x, w, b = data({4, 3, 4, 2}, 34), data({3, 2, 3, 4}, 35), data({3}, 36)
  check(function(a, k, c) return wsum(f(a, k, c, {stride = 2, pad = 1, outpad = {1, 0}})) end, {x, w, b})
  check(function(a, k) return wsum(f(a, k, nil, {groups = 2, dilation = {1, 2}})) end,
    {x, data({2, 2, 2, 4}, 37)})
  check(function(a, k, c) return wsum(f(a, k, c, {stride = {1, 2}, activation = "relu"})) end, {x, w, b})
end

function checks.conv2d_relu_maxpool(f)
  local x, w, b = data({6, 6, 2, 2}, 31), data({3, 3, 2, 3}, 32), data({3}, 33)
  check(function(a, k, c)
    return wsum(f(a, k, c, {pad = {1, 1, 1, 1}, activation = "relu"}, {window = {2, 2}}))
  end, {x, w, b})
end

function checks.pool2d(f)
  local x = data({4, 4, 2, 2}, 27)
  for _, kind in ipairs{"max", "mean"} do
    check(function(a) return wsum(f(kind, a, {window = {2, 2}})) end, {x})
  end
end

function checks.resample(f)
  local x = data({3, 4, 2, 2}, 38)
  check(function(a) return wsum(f("nearest", a, {6, 8})) end, {x})
  check(function(a) return wsum(f("bilinear", a, {7, 5})) end, {x})
end

function checks.adaptive_pool2d(f) -- windows of uneven sizes that overlap
  local x = data({7, 5, 2, 2}, 39)
  check(function(a) return wsum(f("mean", a, {3, 4})) end, {x})
  -- a step smaller than the gap between each window's two largest
  -- elements, which are 4e-3 apart at the closest
  check(function(a) return wsum(f("max", a, {3, 4})) end, {x}, {eps = 1e-3})
end

function checks.embedding(f) -- a repeated index and an unused entry
  local indices = cnn.tensor{{2, 1}, {2, 4}, {3, 2}}:int()
  check(function(w) return wsum(f(w, indices)) end, {data({3, 5}, 40)})
end

function checks.dense(f)
  local x, w, b = data({4, 3}, 28), data({2, 4}, 29), data({2}, 30)
  check(function(a, k, c) return wsum(f(a, k, c)) end, {x, w, b})
  check(function(a, k, c) return wsum(f(a, k, c)) end, {data({4}, 31), w, b})
end

function checks.batchnorm(f)
  local x = data({3, 2, 2, 4}, 32)
  local gamma, beta, rm, rv = data({2}, 33, true), data({2}, 34), data({2}, 35), data({2}, 36, true)
  for _, training in ipairs{true, false} do
    check(function(a, g, bt)
      return wsum(f(a, g, bt, core.clone(rm), core.clone(rv), training, 0.1, 1e-5))
    end, {x, gamma, beta}, {rtol = 5e-2, atol = 2e-3})
  end
end

function checks.sync_batchnorm(f) -- alone: batch normalisation in training mode
  local x = data({3, 2, 2, 4}, 32)
  local gamma, beta, rm, rv = data({2}, 33, true), data({2}, 34), data({2}, 35), data({2}, 36, true)
  check(function(a, g, bt)
    return wsum(f(a, g, bt, core.clone(rm), core.clone(rv), 0.1, 1e-5))
  end, {x, gamma, beta}, {rtol = 5e-2, atol = 2e-3})
  check(function(a, g, bt) return wsum(f(a, g, bt, core.clone(gamma), core.clone(gamma))) end,
    {data({2, 5}, 37), gamma, beta}, {rtol = 5e-2, atol = 2e-3})
end

function checks.layernorm(f) -- one and two leading dims, with and without gamma and beta
  local x = data({3, 2, 4}, 38)
  check(function(a, g, b) return wsum(f(a, 1, g, b, 1e-5)) end, {x, data({3}, 39), data({3}, 46)})
  check(function(a, g, b) return wsum(f(a, 2, g, b)) end, {x, data({3, 2}, 47), data({3, 2}, 48)})
  check(function(a) return wsum(f(a, 1)) end, {x})
end

function checks.groupnorm(f) -- groups of channels, one per channel, features×N; with and without gamma and beta
  local x = data({3, 2, 4, 2}, 56)
  check(function(a, g, b) return wsum(f(a, 2, g, b, 1e-5)) end, {x, data({4}, 57), data({4}, 58)})
  check(function(a, g, b) return wsum(f(a, 4, g, b)) end, {x, data({4}, 59), data({4}, 60)})
  check(function(a) return wsum(f(a, 1)) end, {x})
  check(function(a) return wsum(f(a, 2)) end, {data({12, 3}, 61)})
end

function checks.dropout(f) -- the same mask for every evaluation
  check(function(a)
    core.seed(7)
    return wsum(f(a, 0.4, true))
  end, {data({4, 5}, 37)})
end

-- Losses against both their arguments; ŷ a probability where the loss
-- takes one.
function checks.loss_logits(f)
  check(function(yhat, y) return f(yhat, y) end, {data({3, 4}, 50), data({3, 4}, 51, true)})
end

function checks.loss_probabilities(f)
  check(function(yhat, y) return f(cnn.softmax(yhat), y) end, {data({3, 4}, 52), data({3, 4}, 53, true)})
end

function checks.loss_binary(f)
  check(function(yhat, y) return f(cnn.sigmoid(yhat), y) end, {data({3, 4}, 54), data({3, 4}, 55, true)})
end

-- Name -> kind of check.
local DIFFERENTIABLE = {}
local function differentiable(kind, ...)
  assert(checks[kind], kind)
  for _, name in ipairs{...} do DIFFERENTIABLE[name] = kind end
end

-- under the same names in cnn, cnn.ops and as methods
for _, name in ipairs{"abs", "exp", "relu", "sigmoid", "tanh", "gelu", "softplus", "logsigmoid",
                      "softmax", "logsoftmax", "identity", "swish", "mish", "selu", "softsign"} do
  differentiable("unary", "cnn." .. name, "cnn.ops." .. name, "Tensor:" .. name)
end
for _, name in ipairs{"log", "sqrt"} do
  differentiable("positive", "cnn." .. name, "cnn.ops." .. name, "Tensor:" .. name)
end
for _, name in ipairs{"leakyrelu", "elu", "celu"} do
  differentiable("activation_a", "cnn." .. name, "cnn.ops." .. name, "Tensor:" .. name)
end
differentiable("hardtanh", "cnn.hardtanh", "cnn.ops.hardtanh", "Tensor:hardtanh")
for _, name in ipairs{"relu6", "hardsigmoid"} do
  differentiable("clip", "cnn." .. name, "cnn.ops." .. name, "Tensor:" .. name)
end
for _, name in ipairs{"cat", "flip", "pad", "repeat_"} do
  differentiable(name, "cnn." .. name, "cnn.ops." .. name, "Tensor:" .. name)
end
differentiable("matmul", "cnn.matmul", "cnn.ops.matmul", "Tensor:matmul")
differentiable("transpose", "cnn.transpose", "cnn.ops.transpose", "Tensor:transpose")
differentiable("reshape", "cnn.reshape", "cnn.ops.reshape", "Tensor:reshape")
differentiable("flatten", "cnn.flatten", "cnn.ops.flatten", "Tensor:flatten")
differentiable("reduction", "cnn.sum", "cnn.ops.sum", "Tensor:sum", "cnn.mean", "cnn.ops.mean", "Tensor:mean")
-- Julia's names: maximum is the reduction, max.(a, b) elementwise, as in
-- cnn.core; the methods t:max() and t:min() reduce too
differentiable("extremum", "cnn.maximum", "cnn.ops.maximum", "Tensor:max", "Tensor:maximum",
               "cnn.minimum", "cnn.ops.minimum", "Tensor:min", "Tensor:minimum")
differentiable("elementwise", "cnn.max", "cnn.ops.max", "cnn.min", "cnn.ops.min")
for _, name in ipairs{"add", "sub", "mul", "div"} do
  differentiable("binary", "cnn.ops." .. name, "Tensor:" .. name)
end
differentiable("binary", "Tensor.__add", "Tensor.__sub", "Tensor.__mul", "Tensor.__div")
differentiable("pow", "cnn.ops.pow", "Tensor:pow", "Tensor.__pow")
differentiable("unary", "cnn.ops.neg", "Tensor:neg", "cnn.ops.clone", "Tensor:clone",
               "cnn.ops.contiguous", "Tensor:contiguous", "cnn.ops.float", "Tensor:float")
differentiable("unm", "Tensor.__unm")
differentiable("index", "Tensor.__index")
differentiable("select", "cnn.ops.select", "Tensor:select")
differentiable("slice", "cnn.ops.slice", "Tensor:slice", "cnn.ops.narrow", "Tensor:narrow")
differentiable("sum_to", "cnn.ops.sum_to", "Tensor:sum_to")
differentiable("get", "Tensor:get")
differentiable("conv2d", "cnn.conv2d", "cnn.ops.conv2d")
differentiable("deconv2d", "cnn.deconv2d", "cnn.ops.deconv2d")
differentiable("pool2d", "cnn.pool2d", "cnn.ops.pool2d")
differentiable("conv2d_relu_maxpool", "cnn.conv2d_relu_maxpool", "cnn.ops.conv2d_relu_maxpool")
differentiable("dense", "cnn.dense", "cnn.ops.dense")
differentiable("resample", "cnn.resample", "cnn.ops.resample")
differentiable("adaptive_pool2d", "cnn.adaptive_pool2d", "cnn.ops.adaptive_pool2d")
differentiable("embedding", "cnn.embedding", "cnn.ops.embedding")
differentiable("batchnorm", "cnn.batchnorm", "cnn.ops.batchnorm")
differentiable("sync_batchnorm", "cnn.sync_batchnorm", "cnn.ops.sync_batchnorm")
differentiable("layernorm", "cnn.layernorm", "cnn.ops.layernorm")
differentiable("groupnorm", "cnn.groupnorm", "cnn.ops.groupnorm")
differentiable("dropout", "cnn.dropout", "cnn.ops.dropout")
differentiable("loss_logits", "cnn.mse", "cnn.logitcrossentropy", "cnn.logitbinarycrossentropy", "cnn.mae",
  "cnn.huber_loss", "cnn.hinge_loss", "cnn.squared_hinge_loss")
differentiable("loss_probabilities", "cnn.crossentropy", "cnn.kldivergence", "cnn.focal_loss")
differentiable("loss_binary", "cnn.binarycrossentropy", "cnn.binary_focal_loss")

-- (b) Not differentiable ------------------------------------------------------

-- Refused: the call, inside a gradient call on the tracked x, whose
-- gradient is needed, raises an error that starts with the name.
local REFUSES = {}
local function refuses(message, call, ...)
  for _, name in ipairs{...} do REFUSES[name] = {message = message, call = call} end
end

-- the comparisons of cnn.ops give tracked masks, whose backward refuses
for _, name in ipairs{"eq", "ne", "lt", "le", "gt", "ge"} do
  refuses("gradient: " .. name .. " is not differentiable",
    function(f, x) return cnn.sum(f(x, 0) * x) end, "cnn.ops." .. name)
end
-- argmax and argmin of cnn.ops along a dimension give tracked indices
for _, name in ipairs{"argmax", "argmin"} do
  refuses("gradient: " .. name .. " is not differentiable",
    function(f, x) return cnn.sum(f(x, 1):float() * x) end, "cnn.ops." .. name)
end
-- the numbers of a tracked tensor, which would carry no gradient
-- labels of the largest scores
refuses("gradient: onecold is not differentiable",
  function(f, x) return cnn.sum(f(x, cnn.range(0, 3)):float() * x[{1, 1}]) end, "cnn.onecold")
refuses("item: not differentiable", function(f, x) return f(cnn.sum(x)) end, "cnn.item", "Tensor:item")
refuses("totable: not differentiable", function(f, x) return f(x)[1][1] end, "Tensor:totable")
-- writes into a tracked tensor, which the backward may read
local function in_place(call)
  return function(f, x)
    local y = x * x -- saves x for its backward
    call(f, x)
    return cnn.sum(y)
  end
end
refuses("set: not differentiable", in_place(function(f, x) f(x, 1, 1, 5) end), "Tensor:set")
refuses("fill: not differentiable", in_place(function(f, x) f(x, 5) end), "cnn.fill", "Tensor:fill")
refuses("copy: not differentiable", in_place(function(f, x) f(x, cnn.ones(x:size())) end), "Tensor:copy",
  "cnn.copy")
refuses("free: not differentiable", in_place(function(f, x) f(x) end), "Tensor:free", "Tensor.__close")
refuses("setindex: not differentiable", in_place(function(f, x) f(x, 1, 5) end), "Tensor.__newindex")
-- and a copy out of a tracked tensor, which would carry no gradient
REFUSES["Tensor:copy (of a tracked source)"] = {
  message = "copy: not differentiable",
  call = function(_, x)
    local y = core.zeros(x:size())
    y:copy(x)
    return cnn.sum(y)
  end,
}

-- Untracked: the call, inside a gradient call on the tracked x, gives a
-- value that is not a tracked tensor, the same for x moved by 1e-3 (its
-- derivative is zero there), or, for `whole` numbers only, an error for
-- x moved (it has no derivative). `input` is x.
local UNTRACKED = {}
local function untracked(why, call, input, ...)
  for _, name in ipairs{...} do UNTRACKED[name] = {why = why, call = call, input = input} end
end
local function whole(why, call, input, ...)
  for _, name in ipairs{...} do UNTRACKED[name] = {why = why, call = call, input = input, whole = true} end
end

local SIGNED = data({4, 3}, 60)
for _, name in ipairs{"argmax", "argmin"} do
  untracked("an index: constant between ties", function(f, x) return f(x) end, SIGNED, "cnn." .. name)
  untracked("indices: constant between ties", function(f, x) return f(x, 1) end, SIGNED, "Tensor:" .. name)
end
for _, name in ipairs{"eq", "ne", "lt", "le", "gt", "ge"} do
  untracked("a mask of 0 and 1: constant away from the threshold",
    function(f, x) return f(x, 0) end, SIGNED, "Tensor:" .. name)
end
local LABELS = cnn.tensor{0, 2, 1}
whole("Int32 of whole numbers, refusing others", function(f, x) return f(x) end, LABELS, "Tensor:int")
whole("labels to one-hot columns, refusing others",
  function(f, x) return f(x, cnn.range(0, 2)) end, LABELS, "cnn.onehotbatch")
whole("a label to a one-hot column, over a label set refusing others",
  function(f, x) return f(2, x) end, LABELS, "cnn.onehot")
untracked("a boolean", function(f, x) return f(x, x + 0.5) end, SIGNED, "cnn.isapprox", "Tensor:isapprox")
untracked("a boolean", function(f, x) return f(x, cnn.ones(4, 3)) end, SIGNED, "Tensor.__eq")
untracked("the sizes, not the values", function(f, x) return f(x) end, SIGNED,
  "Tensor:size", "Tensor:ndims", "Tensor:numel", "Tensor:dtype", "Tensor:is_contiguous",
  "Tensor:isfreed", "Tensor.__len")
untracked("a string", function(f, x) return f(x) end, SIGNED, "Tensor.__tostring")

-- (c) Not tensor ops ----------------------------------------------------------

local NOT_OPS = {}
local function not_ops(why, ...)
  for _, name in ipairs{...} do NOT_OPS[name] = why end
end
not_ops("a layer constructor (its call is made of the ops above)", "cnn.BatchNorm", "cnn.Chain", "cnn.Conv",
  "cnn.ConvTranspose", "cnn.DepthwiseConv",
  "cnn.Dense", "cnn.Dropout", "cnn.Flatten", "cnn.GlobalMaxPool", "cnn.GlobalMeanPool", "cnn.MaxPool",
  "cnn.MeanPool", "cnn.Parallel", "cnn.SkipConnection", "cnn.LayerNorm", "cnn.GroupNorm", "cnn.InstanceNorm",
  "cnn.AdaptiveMaxPool", "cnn.AdaptiveMeanPool", "cnn.Upsample", "cnn.Embedding")
not_ops("an optimiser constructor", "cnn.ADAM", "cnn.ADAMW", "cnn.Adam", "cnn.AdamW", "cnn.Descent",
  "cnn.Momentum", "cnn.Nesterov", "cnn.RMSProp", "cnn.AdaGrad", "cnn.AdaDelta", "cnn.AMSGrad", "cnn.NAdam",
  "cnn.RAdam", "cnn.AdaMax", "cnn.AdaBelief", "cnn.Lion", "cnn.OptimiserChain", "cnn.ClipGrad", "cnn.ClipNorm",
  "cnn.WeightDecay")
not_ops("a schedule", "cnn.Step", "cnn.Exp", "cnn.Cos", "cnn.Linear", "cnn.Warmup", "cnn.OneCycle",
  "cnn.is_schedule", "cnn.schedule", "cnn.advance")
not_ops("a tensor constructor", "cnn.zeros", "cnn.ones", "cnn.rand", "cnn.randn", "cnn.range", "cnn.tensor",
  "cnn.seed")
not_ops("a weight initialiser", "cnn.glorot_normal", "cnn.glorot_uniform", "cnn.kaiming_normal",
  "cnn.kaiming_uniform", "cnn.ones_init", "cnn.zeros_init")
not_ops("autodiff itself", "cnn.gradient", "cnn.withgradient", "cnn.op", "cnn.istracked", "cnn.isrecording")
not_ops("training and evaluation", "cnn.train", "cnn.update", "cnn.stop", "cnn.params", "cnn.trainmode",
  "cnn.testmode", "cnn.accuracy", "cnn.confusion", "cnn.DataLoader", "cnn.ncycle", "cnn.throttle",
  "cnn.History", "cnn.quantize", "cnn.precision")
not_ops("files and parameter loading", "cnn.savemodel", "cnn.loadmodel", "cnn.loadparams",
  "cnn.savecheckpoint", "cnn.loadcheckpoint", "cnn.loadimage", "cnn.saveimage")
not_ops("a training callback", "cnn.EarlyStopping", "cnn.Checkpointer")
not_ops("data augmentation (a loader's transforms, no gradient)", "cnn.RandomCrop", "cnn.RandomShift",
  "cnn.RandomFlip", "cnn.Normalize", "cnn.Compose")
not_ops("display and timing", "cnn.show", "cnn.repr", "cnn.imagestring", "cnn.showimage", "cnn.summary",
  "cnn.outputsize", "cnn.time", "cnn.wallclock", "cnn.profile", "cnn.profile_report", "cnn.profile_text",
  "cnn.threads", "cnn.adaptive_threads", "cnn.help", "cnn.plot", "cnn.plotstring", "cnn.savefig")
not_ops("a table of functions (cnn.core is documented as not recorded; cnn.ops is walked here)",
  "cnn.core", "cnn.ops", "cnn.datasets", "cnn.distributed", "cnn.Tensor", "cnn.ops.method_table",
  "cnn.ops.raw_operators")
not_ops("a maker of ops", "cnn.ops.eltwise_op", "cnn.ops.nondifferentiable")
not_ops("cnn.core's original, behind the recorded metamethod", "Tensor.__cnn_raw_index",
  "Tensor.__cnn_raw_newindex", "Tensor.__cnn_raw_close")

-- Checks ------------------------------------------------------------------

local LISTS = {differentiable = DIFFERENTIABLE, refuses = REFUSES, untracked = UNTRACKED, ["not ops"] = NOT_OPS}

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

local function count(t)
  return #sorted_keys(t)
end

-- x moved by d: a copy, for a value outside the gradient call.
local function moved(x, d)
  if x:dtype() ~= "Float32" then return x end
  return core.add(x, d)
end

local function same_value(a, b)
  if getmetatable(a) == core.Tensor and getmetatable(b) == core.Tensor then
    return core.isapprox(a, b, 0, 0)
  end
  if type(a) == "string" then return true end -- the printed numbers move with x
  if type(a) == "table" then -- sizes
    if type(b) ~= "table" or #a ~= #b then return false end
    for i = 1, #a do
      if a[i] ~= b[i] then return false end
    end
    return true
  end
  return a == b
end

describe("the ops coverage", function()
  local names = surface()

  it("puts every public name in exactly one list, and lists only public names", function()
    local problems = {}
    for _, name in ipairs(sorted_keys(names)) do
      local found = {}
      for _, list in ipairs(sorted_keys(LISTS)) do
        if LISTS[list][name] ~= nil then found[#found + 1] = list end
      end
      if #found == 0 then
        problems[#problems + 1] = name .. ": in no list (differentiable, refuses, untracked, not ops)"
      elseif #found > 1 then
        problems[#problems + 1] = name .. ": in " .. table.concat(found, " and ")
      end
    end
    for _, list in ipairs(sorted_keys(LISTS)) do
      for name in pairs(LISTS[list]) do
        local public = names[name] ~= nil or names[name:match("^(%S+) %(")] ~= nil
        if not public then problems[#problems + 1] = name .. ": listed as " .. list .. " but not public" end
      end
    end
    table.sort(problems)
    assert.are.equal("", table.concat(problems, "\n"))
    io.stdout:write(("\nops coverage: %d checked by finite differences, %d refuse, %d untracked "
      .. "(non-tensor or piecewise constant), %d not ops\n"):format(count(DIFFERENTIABLE),
      count(REFUSES), count(UNTRACKED), count(NOT_OPS)))
  end)

  describe("differentiable, against finite differences:", function()
    for _, name in ipairs(sorted_keys(DIFFERENTIABLE)) do
      it(name, function() checks[DIFFERENTIABLE[name]](names[name]) end)
    end
  end)

  describe("not differentiable, refused inside a gradient call:", function()
    for _, name in ipairs(sorted_keys(REFUSES)) do
      it(name, function()
        local r = REFUSES[name]
        local f = names[name] or names[name:match("^(%S+) %(")]
        local x = data({4, 3}, 61)
        local before = x:clone()
        local ok, e = pcall(cnn.gradient, function(t) return r.call(f, t) end, x)
        assert.is_false(ok, "no error")
        e = tostring(e):gsub("^[^\n]-:%d+: ", "")
        assert.are.equal(r.message, e:sub(1, #r.message))
        assert.is_true(core.isapprox(x, before, 0, 0), "x was changed")
        assert.is_false(cnn.istracked(x))
      end)
    end
  end)

  describe("not differentiable, untracked and constant nearby:", function()
    for _, name in ipairs(sorted_keys(UNTRACKED)) do
      it(name .. " (" .. UNTRACKED[name].why .. ")", function()
        local u = UNTRACKED[name]
        local x = u.input:clone()
        local inside
        local gx = cnn.gradient(function(t)
          inside = u.call(names[name], t)
          assert.is_false(cnn.istracked(inside))
          return cnn.sum(t)
        end, x)
        helpers.assert_tensor_near(gx, core.ones(x:size()), 0, 0)
        for _, d in ipairs{1e-3, -1e-3} do
          if u.whole then
            assert.has_error(function() u.call(names[name], moved(x, d)) end)
          else
            assert.is_true(same_value(inside, u.call(names[name], moved(x, d))), "changed with x")
          end
        end
      end)
    end
  end)
end)

describe("display inside a gradient call", function()
  it("shows a tracked tensor and leaves its gradient whole", function()
    local x = data({4, 3}, 62, true)
    local shown
    local g = cnn.gradient(function(t)
      shown = {tostring(t), cnn.imagestring(t), cnn.repr(t)}
      return cnn.sum(t)
    end, x)
    assert.are.same({tostring(x), cnn.imagestring(x), cnn.repr(x)}, shown)
    helpers.assert_tensor_near(g, core.ones(4, 3), 0, 0)
  end)
end)

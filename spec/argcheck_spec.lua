-- Every public function checks its arguments: what it does not understand
-- is an error that names the function as the user calls it, the argument,
-- what would be valid and what was given, at the user's line.
local cnn = require "cnn"
local argcheck = require "cnn.argcheck"
local helpers = require "helpers"

local error_message = helpers.error_message

-- Runs `code` as a chunk named "=user" (cnn in scope); returns the error
-- it raises.
local function raised(code)
  local chunk = assert(load(code, "=user", "t", setmetatable({cnn = cnn}, {__index = _G})))
  local ok, e = pcall(chunk)
  assert(not ok, "expected an error from: " .. code)
  return e
end

-- The message of the error of `code`, run as `local r = <code>` at line 1
-- of the user's chunk: the position must be that line.
local function message(code)
  local e = raised("local r = " .. code)
  assert.equal("string", type(e))
  local msg = e:match("^user:1: (.*)$")
  assert(msg, "not at the user's line: " .. e)
  return msg
end

describe("argcheck", function()
  it("describes what was given without running its code", function()
    local d = argcheck.describe
    assert.equal("9", d(9))
    assert.equal("288.0", d(288.0))
    assert.equal("NaN", d(0 / 0))
    assert.equal("-inf", d(-math.huge))
    assert.equal('"fast"', d("fast"))
    assert.equal("nil", d(nil))
    assert.equal("{0.9}", d({0.9}))
    assert.equal("a table", d({a = 1}))
    assert.equal("a Float32 tensor (2×3)", d(cnn.ones(2, 3)))
    assert.equal("an Int32 tensor (0-dim)", d(cnn.zeros({}, "int32")))
    assert.equal("a Dense", d(cnn.Dense(3, 2)))
    assert.equal("an ADAM", d(cnn.ADAM()))
    assert.equal("a function", d(print))
    local t = cnn.ones(2)
    t:free()
    assert.equal("a freed tensor", d(t))
    local called = false
    d(setmetatable({}, {__tostring = function() called = true return "x" end, __index = error}))
    assert.is_false(called)
  end)

  it("checks numbers: finite, in an interval, integers", function()
    local err = error_message
    assert.equal(0.5, argcheck.number("f", "p", 0.5, "[0, 1)"))
    assert.equal("f: p must be a number in [0, 1), got 1", err(argcheck.number, "f", "p", 1, "[0, 1)"))
    assert.equal("f: p must be a number in [0, 1), got NaN", err(argcheck.number, "f", "p", 0 / 0, "[0, 1)"))
    assert.equal("f: eps must be a positive number, got 0", err(argcheck.number, "f", "eps", 0, "(0, inf)"))
    assert.equal("f: eta must be a non-negative number, got -1",
      err(argcheck.number, "f", "eta", -1, "[0, inf)"))
    assert.equal("f: x must be a finite number, got inf", err(argcheck.number, "f", "x", math.huge))
    assert.equal("f: n must be a positive integer, got 2.0", err(argcheck.integer, "f", "n", 2.0, 1))
    assert.equal("f: n must be an integer in 1..3, got 4", err(argcheck.integer, "f", "n", 4, 1, 3))
    assert.equal('f: mode must be one of "a", "b", got "c"', err(argcheck.choice, "f", "mode", "c", {"a", "b"}))
    assert.equal("f: g must be a function such as cnn.relu, got 42",
      err(argcheck.callable, "f", "g", 42, "cnn.relu"))
    assert.equal("f: x must be a Float32 tensor of 2 dimensions, got a Float32 tensor (3)",
      err(argcheck.tensor, "f", "x", cnn.ones(3), "Float32", 2))
    assert.equal("f: unknown option \"strid\" (valid options: pad, stride)",
      err(argcheck.options, "f", {strid = 1}, {pad = true, stride = true}))
    assert.equal("f: expected at most 1 argument (p), got 2", err(argcheck.arity, "f", 1, "p", 0.5, 7))
    argcheck.arity("f", 1, "p", 0.5, nil, nil)
  end)
end)

describe("optimisers", function()
  it("refuse hyperparameters out of range, NaN included", function()
    assert.equal("ADAM: eta must be a non-negative number, got NaN", message("cnn.ADAM(0/0)"))
    assert.equal('ADAM: eta must be a non-negative number, got "fast"', message("cnn.ADAM('fast')"))
    assert.equal("ADAM: beta must be a pair of numbers in [0, 1), got 9", message("cnn.ADAM(1, 9)"))
    assert.equal("ADAM: beta must be a pair of numbers in [0, 1), got {0.9, 1}", message("cnn.ADAM(1, {0.9, 1})"))
    assert.equal("ADAM: eps must be a positive number, got 0", message("cnn.Adam(0.1, nil, 0)"))
    assert.equal('Momentum: rho must be a number in [0, 1), got "x"', message("cnn.Momentum(0.1, 'x')"))
    assert.equal("Nesterov: rho must be a number in [0, 1), got 1", message("cnn.Nesterov(0.1, 1)"))
    assert.equal("RMSProp: eps must be a positive number, got -1", message("cnn.RMSProp(0.1, 0.9, -1)"))
    assert.equal("AdamW: decay must be a non-negative number, got -0.1", message("cnn.AdamW(0.1, nil, -0.1)"))
    assert.equal("Descent: eta must be a non-negative number, got inf", message("cnn.Descent(math.huge)"))
    assert.equal("Descent: expected at most 1 argument (eta), got 2", message("cnn.Descent(0.1, 0.9)"))
    assert.equal("AdamW(0.001, (0.9, 0.999), 0.01)", tostring(cnn.AdamW(0.001, {0.9, 0.999}, 0.01)))
  end)

  it("check hyperparameters changed after construction at the next update", function()
    local opt, p = cnn.Descent(0.1), cnn.ones(2)
    opt.eta = 0 / 0
    assert.equal("update: opt.eta must be a non-negative number, got NaN",
      error_message(cnn.update, opt, p, cnn.ones(2)))
    opt = cnn.ADAM()
    opt.beta = {0.9}
    assert.equal("update: opt.beta must be a pair of numbers in [0, 1), got {0.9}",
      error_message(cnn.update, opt, p, cnn.ones(2)))
    assert.same({1, 1}, p:totable())
  end)
end)

describe("update", function()
  local function update_error(opt, ps, gs)
    return error_message(cnn.update, opt, ps, gs)
  end

  it("refuses what are not tensors, and gradients not keyed by them", function()
    local w = cnn.ones(2)
    assert.equal("update: ps[1] must be a tensor, got 1", update_error(cnn.ADAM(), {1, 2}, {}))
    assert.equal("update: ps must be a list of tensors such as cnn.params(model), got a table",
      update_error(cnn.ADAM(), {w = w}, {}))
    assert.equal("update: gs must be keyed by the tensors of ps, as cnn.gradient(f, ps) returns it, got the key 1",
      update_error(cnn.ADAM(), {w}, {cnn.ones(2)}))
    assert.equal("update: the gradient of ps[1] must be a tensor, got 5", update_error(cnn.ADAM(), {w}, {[w] = 5}))
    assert.equal("update: the gradient of p must be a tensor, got nil", update_error(cnn.ADAM(), w))
  end)

  it("refuses gradients for none of the parameters, and skips a parameter the loss did not use", function()
    local m = cnn.Dense(3, 2)
    local ps = cnn.params(m)
    assert.equal("update: gs has no gradient for any of the 2 parameters in ps (it must come from "
      .. "cnn.gradient(f, ps) with these ps and a loss that uses them)", update_error(cnn.Descent(), ps, {}))
    local before = m.bias:totable()
    local weight = m.weight:clone()
    cnn.update(cnn.Descent(1), ps, {[m.weight] = cnn.ones(2, 3)})
    assert.same(before, m.bias:totable())
    assert.is_true(cnn.isapprox(m.weight, weight - 1))
    local none = {}
    assert.equal(none, cnn.update(cnn.Descent(1), none, {}))
  end)
end)

describe("train", function()
  it("names itself for a loss that does not use the parameters, and for a bad optimiser", function()
    local m = cnn.Dense(3, 2)
    local data = {{cnn.ones(3, 4), cnn.ones(2, 4)}}
    local function loss(x, y) return cnn.mse(m(x), y) end
    local ok, e = pcall(cnn.train, function(_, y) return cnn.mse(y, y) end, cnn.params(m), data, cnn.ADAM(),
      {progress = false})
    assert.is_false(ok)
    assert.matches("train: the loss does not depend on any of the 2 parameters in ps %(no gradient at step 1%)$", e)
    ok, e = pcall(cnn.train, loss, cnn.params(m), data, {}, {progress = false})
    assert.is_false(ok)
    assert.matches("train: expected an optimiser, got table$", e)
    ok, e = pcall(cnn.train, loss, {1}, data, cnn.ADAM())
    assert.is_false(ok)
    assert.matches("train: ps%[1%] must be a tensor, got 1$", e)
    ok, e = pcall(cnn.train, function(x) return m(x) end, cnn.params(m), data, cnn.ADAM(), {progress = false})
    assert.is_false(ok)
    assert.matches("train: the loss must be a number or a 1%-element tensor, got a Float32 tensor %(2×4%)$", e)
    ok, e = pcall(cnn.train, loss, cnn.params(m), data, cnn.ADAM(), {progres = false})
    assert.is_false(ok)
    assert.matches('train: unknown option "progres" %(valid options: cb, distributed, history, log, '
                   .. 'precision, progress%)$', e)
  end)
end)

describe("layers", function()
  it("check the activation when they are made", function()
    assert.equal("Dense: activation must be a function such as cnn.relu, got 42", message("cnn.Dense(3, 2, 42)"))
    assert.equal('Dense: activation must be a function such as cnn.relu, got "relu"',
      message("cnn.Dense(4, 2, 'relu')"))
    assert.equal('Conv: activation must be a function such as cnn.relu, got "relu"',
      message("cnn.Conv({3, 3}, 1, 2, 'relu')"))
    assert.equal("BatchNorm: activation must be a function such as cnn.relu, got true",
      message("cnn.BatchNorm(2, true)"))
  end)

  it("refuse unknown options, listing the valid ones", function()
    assert.equal('Conv: unknown option "strides" (valid options: bias, dilation, groups, init, pad, stride)',
      message("cnn.Conv({3, 3}, 1, 2, {strides = 2})"))
    assert.equal('Dense: unknown option "use_bias" (valid options: bias, init)',
      message("cnn.Dense(3, 2, cnn.relu, {use_bias = false})"))
    assert.equal('MaxPool: unknown option "padding" (valid options: pad, stride)',
      message("cnn.MaxPool(2, {padding = 1})"))
    assert.equal('BatchNorm: unknown option "mom" (valid options: eps, momentum, sync)',
      message("cnn.BatchNorm(2, {mom = 0.1})"))
  end)

  it("check options and arguments", function()
    assert.equal("Dropout: p must be a number in [0, 1), got NaN", message("cnn.Dropout(0/0)"))
    assert.equal("Dropout: p must be a number in [0, 1), got 1", message("cnn.Dropout(1)"))
    assert.equal('Dense: bias must be true or false, got "no"', message("cnn.Dense(3, 2, {bias = 'no'})"))
    assert.equal("Dense: init must be a function such as cnn.glorot_uniform, got 5",
      message("cnn.Dense(3, 2, {init = 5})"))
    assert.equal("Dense: init must return a 2×3 Float32 tensor, got a Float32 tensor (3)",
      message("cnn.Dense(3, 2, {init = function() return cnn.ones(3) end})"))
    assert.equal("Dense: glorot_uniform: tensor: tensor too large: 1099511627776×3 (at most 2^37 elements)",
      message("cnn.Dense(3, 1 << 40)"))
    assert.equal("BatchNorm: momentum must be a number in [0, 1], got 2", message("cnn.BatchNorm(2, {momentum = 2})"))
    assert.equal("BatchNorm: eps must be a positive number, got 0", message("cnn.BatchNorm(2, {eps = 0})"))
    assert.equal("Flatten: expected at most 0 arguments (), got 1", message("cnn.Flatten(5)"))
    assert.equal("Dense: expected at most 4 arguments (in, out, act, opts), got 5",
      message("cnn.Dense(3, 2, cnn.relu, {}, 1)"))
    assert.equal('Conv: kernel must be a positive integer or a table of 2 positive integers, got {"a", "b"}',
      message("cnn.Conv({'a', 'b'}, 1, 2)"))
    assert.equal('set_mode: mode must be one of "train", "test", "auto", got "on"',
      message("cnn.Dropout(0.5):set_mode('on')"))
    assert.equal('trainmode: flag must be one of true, false, "auto", got "yes"',
      message("cnn.trainmode(cnn.Dropout(0.5), 'yes')"))
    assert.equal("params: model 1 must be a layer or a model such as a Chain, got 5", message("cnn.params(5)"))
  end)

  it("refuse inputs of another type, freed ones included, as a call and as forward", function()
    local freed = cnn.ones(3, 2)
    freed:free()
    local d = cnn.Dense(3, 2)
    for _, f in ipairs{d, function(x) return d:forward(x) end} do
      local ok, e = pcall(f, freed)
      assert.is_false(ok)
      assert.matches("Dense%(3 => 2%): expected a tensor, got a freed tensor$", e)
      ok, e = pcall(f, cnn.zeros(3, 2, "int32"))
      assert.is_false(ok)
      assert.matches("Dense%(3 => 2%): input is Int32 %(3×2%), expected Float32$", e)
    end
  end)
end)

describe("layer constructors", function()
  it("say the expected order when the activation and the options are swapped", function()
    assert.equal("Conv: activation must come before the options table: Conv(kernel, cin, cout [, act] [, opts]); "
      .. "got a table then a function", message("cnn.Conv({3, 3}, 1, 16, {pad = 1}, cnn.relu)"))
    assert.equal("Conv: activation must come before the options table: Conv(kernel, {cin, cout} [, act] [, opts]); "
      .. "got a table then a function", message("cnn.Conv({3, 3}, {1, 16}, {pad = 1}, cnn.relu)"))
    assert.equal("Dense: activation must come before the options table: Dense(in, out [, act] [, opts]); "
      .. "got a table then a function", message("cnn.Dense(4, 2, {bias = false}, cnn.relu)"))
    assert.equal("Dense: activation must come before the options table: Dense({in, out} [, act] [, opts]); "
      .. "got a table then a Dense", message("cnn.Dense({4, 2}, {bias = false}, cnn.Dense(2, 2))"))
    assert.equal("BatchNorm: activation must come before the options table: BatchNorm(channels [, act] [, opts]); "
      .. "got a table then a function", message("cnn.BatchNorm(16, {eps = 1e-3}, cnn.relu)"))
    assert.equal("Conv: expected one options table, got two tables: Conv(kernel, cin, cout [, act] [, opts])",
      message("cnn.Conv({3, 3}, 1, 16, {pad = 1}, {stride = 2})"))
  end)

  it("say the expected order for other misorderings", function()
    assert.equal("Conv: the kernel comes first: Conv(kernel, cin, cout [, act] [, opts]); got 1, 16, {3, 3}",
      message("cnn.Conv(1, 16, {3, 3})"))
    assert.equal("MaxPool: the stride goes in the options table: MaxPool(window [, opts]), such as "
      .. "MaxPool(2, {stride = 2}); got 2", message("cnn.MaxPool(2, 2)"))
    assert.equal("MeanPool: takes no activation: MeanPool(window [, opts]); got a function",
      message("cnn.MeanPool({2, 2}, cnn.relu)"))
    assert.equal("MaxPool: the window comes first: MaxPool(window [, opts]), such as MaxPool({2, 2}); "
      .. "got an options table", message("cnn.MaxPool({stride = 2})"))
    assert.equal("Parallel: the connection comes first: Parallel(connection, layer1, layer2, ...), such as "
      .. "Parallel(function(a, b) return a + b end, ...); got a Dense first",
      message("cnn.Parallel(cnn.Dense(2, 2), cnn.Dense(2, 2), function(a, b) return a + b end)"))
    assert.equal("SkipConnection: the layer comes first: SkipConnection(layer [, connection]); "
      .. "got a function then a Dense", message("cnn.SkipConnection(function(a, b) return a + b end, cnn.Dense(2, 2))"))
    assert.equal("Chain: layer 1 is a list of 2 values; give the layers as arguments: cnn.Chain(l1, l2, ...), "
      .. "or cnn.Chain(table.unpack(list))", message("cnn.Chain({cnn.Dense(2, 2), cnn.relu})"))
  end)

  it("accept what the messages offer instead", function()
    assert.equal("Conv((3, 3), 1 => 16, relu, pad=1)", tostring(cnn.Conv({3, 3}, 1, 16, cnn.relu, {pad = 1})))
    assert.equal("Conv((3, 3), 1 => 16)", tostring(cnn.Conv(3, {1, 16})))
    assert.equal("MaxPool((2, 2), stride=1)", tostring(cnn.MaxPool(2, {stride = 1})))
    assert.equal("SkipConnection(Dense(2 => 2), +)", tostring(cnn.SkipConnection(cnn.Dense(2, 2))))
  end)

  it("refuse sizes that are not positive integers, naming the argument and a float", function()
    assert.equal("Conv: cin must be a positive integer, got 1.0 (a float: compute sizes with //)",
      message("cnn.Conv({3, 3}, 1.0, 16)"))
    assert.equal("Conv: cout must be a positive integer, got 0", message("cnn.Conv({3, 3}, 1, 0)"))
    assert.equal("Conv: cin must be a positive integer, got -2", message("cnn.Conv({3, 3}, {-2, 4})"))
    assert.equal("Conv: the channels must be cin, cout or a pair {cin, cout}, got {1, 2, 3}",
      message("cnn.Conv({3, 3}, {1, 2, 3})"))
    assert.equal("Dense: in must be a positive integer, got 288.0 (a float: compute sizes with //)",
      message("cnn.Dense(32 * 3 * 3 / 1, 10)"))
    assert.equal("Dense: out must be a positive integer, got -1", message("cnn.Dense(4, -1)"))
    assert.equal("Dense: out must be a positive integer, got 0.5", message("cnn.Dense({4, 0.5})"))
    assert.equal("Dense: the sizes must be in, out or a pair {in, out}, got {4, 2, 1}", message("cnn.Dense({4, 2, 1})"))
    assert.equal("BatchNorm: channels must be a positive integer, got 16.0 (a float: compute sizes with //)",
      message("cnn.BatchNorm(16.0)"))
    assert.equal("BatchNorm: channels must be a positive integer, got 0", message("cnn.BatchNorm(0)"))
  end)

  it("refuse kernels, windows, strides, dilations and pads out of range, with the range", function()
    local tuple = "must be a positive integer or a table of 2 positive integers, got "
    assert.equal("Conv: kernel " .. tuple .. "{0, 3}", message("cnn.Conv({0, 3}, 1, 2)"))
    assert.equal("Conv: kernel " .. tuple .. "{3, 3, 3}", message("cnn.Conv({3, 3, 3}, 1, 2)"))
    assert.equal("Conv: kernel " .. tuple .. "3.0", message("cnn.Conv(3.0, 1, 2)"))
    assert.equal("Conv: stride " .. tuple .. "-1", message("cnn.Conv({3, 3}, 1, 2, {stride = -1})"))
    assert.equal("Conv: stride " .. tuple .. "{1, 0}", message("cnn.Conv({3, 3}, 1, 2, {stride = {1, 0}})"))
    assert.equal("Conv: dilation " .. tuple .. "1.5", message("cnn.Conv({3, 3}, 1, 2, {dilation = 1.5})"))
    local pad = 'must be a non-negative integer or a table of 2 or 4 non-negative integers or "same", got '
    assert.equal("Conv: pad " .. pad .. "-1", message("cnn.Conv({3, 3}, 1, 2, {pad = -1})"))
    assert.equal("Conv: pad " .. pad .. "{1, 2, 3}", message("cnn.Conv({3, 3}, 1, 2, {pad = {1, 2, 3}})"))
    assert.equal("Conv: pad " .. pad .. '"valid"', message("cnn.Conv({3, 3}, 1, 2, {pad = 'valid'})"))
    assert.equal("MaxPool: window " .. tuple .. "0", message("cnn.MaxPool(0)"))
    assert.equal("MeanPool: stride " .. tuple .. "0", message("cnn.MeanPool(2, {stride = 0})"))
    assert.equal("MaxPool: pad must be a non-negative integer or a table of 2 or 4 non-negative integers, got 0.5",
      message("cnn.MaxPool(2, {pad = 0.5})"))
  end)

  it("refuse a pooling pad as large as the window when the layer is made", function()
    assert.equal("MaxPool: pad (2, 2, 2, 2) must be smaller than the window (2, 2): along W, pad must be in 0..1",
      message("cnn.MaxPool(2, {pad = 2})"))
    assert.equal("MeanPool: pad (0, 0, 1, 3) must be smaller than the window (3, 3): along H, pad must be in 0..2",
      message("cnn.MeanPool({3, 3}, {pad = {0, 0, 1, 3}})"))
    assert.equal("MaxPool: pad (1, 1, 2, 2) must be smaller than the window (3, 2): along H, pad must be in 0..1",
      message("cnn.MaxPool({3, 2}, {pad = {1, 2}})"))
    -- the largest pads allowed run, each window holding a pixel of the image
    local y = cnn.MaxPool({3, 2}, {pad = {2, 1}, stride = 1})(-cnn.ones(2, 2, 1, 1))
    assert.same({4, 3, 1, 1}, y:size())
    assert.equal(-1, cnn.maximum(y))
    assert.same({3, 3, 1, 1}, cnn.MeanPool(2, {pad = 1})(cnn.ones(4, 4, 1, 1)):size())
  end)

  it("let a Conv pad beyond its kernel, which the convolution computes", function()
    local conv = cnn.Conv({3, 3}, 1, 1, {pad = 5, bias = false})
    local y = conv(cnn.ones(4, 4, 1, 1))
    assert.same({12, 12, 1, 1}, y:size())
    assert.equal(0, y[{1, 1, 1, 1}])
  end)
end)

describe("summary and outputsize", function()
  it("need a model and a list of positive sizes", function()
    assert.equal("summary: model must be a layer or a model such as a Chain, got nil", message("cnn.summary(nil, {3})"))
    assert.equal("outputsize: input sizes must be a list of positive integers such as {28, 28, 1, 1}, got {3, -1}",
      message("cnn.outputsize(cnn.Dense(3, 2), {3, -1})"))
    assert.equal("summary: tensor: tensor too large: 1099511627776×1099511627776 (at most 2^37 elements)",
      message("cnn.summary(cnn.Dense(3, 2), {1 << 40, 1 << 40})"))
  end)

  it("leave the messages of the model's own calls as they are", function()
    assert.equal("zeros: tensor: tensor too large: 1099511627776×1099511627776 (at most 2^37 elements)",
      message("cnn.summary(function(x) return cnn.zeros(1 << 40, 1 << 40) end, {3})"))
    assert.equal("zeros: tensor: tensor too large: 1099511627776×1099511627776 (at most 2^37 elements)",
      message("cnn.outputsize(function(x) return cnn.zeros(1 << 40, 1 << 40) end, {3})"))
  end)
end)

describe("accuracy and confusion", function()
  local model = cnn.Dense(3, 10)
  local x = cnn.ones(3, 5)

  it("name a label outside the label set with its position", function()
    for _, f in ipairs{"accuracy", "confusion"} do
      assert.equal(f .. ": label 12 at position 5 is not in the label set {0, 1, ..., 9}",
        error_message(cnn[f], model, x, {0, 1, 2, 3, 12}, cnn.range(0, 9)))
      assert.equal(f .. ": label 0.5 at position 1 is not in the label set {0, 1, ..., 9}",
        error_message(cnn[f], model, x, cnn.tensor({0.5, 1, 2, 3, 4}), cnn.range(0, 9)))
    end
  end)

  it("check the model, the batch size and what the model returns", function()
    local labels, set = {0, 1, 2, 3, 4}, cnn.range(0, 9)
    assert.equal("accuracy: model must be a layer or a model such as a Chain, got 5",
      error_message(cnn.accuracy, 5, x, labels, set))
    assert.equal("accuracy: batchsize must be a positive integer, got 0",
      error_message(cnn.accuracy, model, x, labels, set, 0))
    assert.equal("confusion: the model returned {}, not classes×N scores",
      error_message(cnn.confusion, function() return {} end, x, labels, set))
    assert.equal("accuracy: the model gives 10 classes (10×5), expected 3",
      error_message(cnn.accuracy, model, x, cnn.zeros(3, 5)))
    assert.equal("confusion: the model gives 10×2 for 1 images, expected 10×1",
      error_message(cnn.confusion, function() return cnn.ones(10, 2) end, x, labels, set, 2))
    assert.equal("accuracy: labelset must be a list or a tensor of labels, got 9",
      error_message(cnn.accuracy, model, x, labels, 9))
  end)
end)

describe("utilities", function()
  it("name themselves for what they cannot show, time or profile", function()
    assert.equal("showimage: image must be a tensor, got nil", message("cnn.showimage(nil)"))
    assert.equal("imagestring: the image 0×3 has no pixels", message("cnn.imagestring(cnn.zeros(0, 3))"))
    assert.equal("time: f must be a function, got nil", message("cnn.time(nil)"))
    assert.equal("profile_report: f must be a function", message("cnn.profile_report(28)"))
    assert.equal("profile_text: report must be a report as cnn.profile_report returns it, got {}",
      message("cnn.profile_text({})"))
    assert.equal("maximum: empty tensor", message("cnn.maximum(cnn.zeros(0))"))
    assert.equal("dropout: active must be true or false, got 1", message("cnn.dropout(cnn.ones(2), 0.5, 1)"))
    assert.equal("leakyrelu: a must be a finite number, got NaN", message("cnn.leakyrelu(cnn.ones(2), 0/0)"))
    assert.equal("glorot_uniform: gain must be a finite number, got \"x\"",
      message("cnn.glorot_uniform(3, 2, {gain = 'x'})"))
    assert.equal("DataLoader: shuffle must be true or false, got \"yes\"",
      message("cnn.DataLoader(cnn.ones(2, 4), {shuffle = 'yes'})"))
    assert.equal("onehotbatch: the label set holds NaN at position 1", message("cnn.onehotbatch({1}, {0/0, 1})"))
  end)
end)

describe("softmax and logsoftmax dims", function()
  it("refuses a dimension beyond x's, naming the function", function()
    assert.are.equal("softmax: dims = 3, but x has 2 dimensions",
      helpers.error_message(cnn.softmax, cnn.rand(3, 2), 3))
  end)

  it("normalises along any other dimension, as over the transpose", function()
    local x = cnn.randn(3, 4, 2) * 3
    for _, f in ipairs{cnn.softmax, cnn.logsoftmax} do
      local along2 = f(x, 2)
      for k = 1, 2 do
        local slice = x:select(3, k):contiguous()
        local want = f(slice:transpose()):transpose()
        assert.is_true((along2:select(3, k) - want):abs():max() < 1e-5)
      end
      local along3 = f(x, 3)
      local want = f(x:reshape(12, 2):transpose()):transpose():reshape(3, 4, 2)
      assert.is_true((along3 - want):abs():max() < 1e-5)
    end
    -- the gradient, against finite differences
    helpers.gradcheck(function(a) return cnn.sum(cnn.softmax(a, 2) * cnn.range(1, 8):reshape(2, 4)) end,
      {cnn.randn(2, 4)})
    helpers.gradcheck(function(a) return cnn.sum(cnn.logsoftmax(a, 2) * cnn.range(1, 8):reshape(2, 4)) end,
      {cnn.randn(2, 4)})
  end)

  it("refuses a dims that is not a positive integer", function()
    assert.are.equal("logsoftmax: dims must be a positive integer, got 0",
      helpers.error_message(cnn.logsoftmax, cnn.rand(3, 2), 0))
  end)

  it("takes dims = 1, the default", function()
    local x = cnn.rand(3, 2)
    assert.are.equal(0, (cnn.softmax(x, 1) - cnn.softmax(x)):abs():max())
  end)
end)

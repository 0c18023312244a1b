local cnn = require "cnn"

-- A fresh copy of the module `name`, loaded while the modules in
-- `stand_ins` (name -> table) take the place of the real ones.
local function load_with(name, stand_ins)
  local saved = {}
  for m, t in pairs(stand_ins) do saved[m], package.loaded[m] = package.loaded[m], t end
  local real = package.loaded[name]
  package.loaded[name] = nil
  local ok, module = pcall(require, name)
  package.loaded[name] = real
  for m in pairs(stand_ins) do package.loaded[m] = saved[m] end
  assert(ok, module)
  return module
end

-- The loop alone, on a stand-in for autodiff and the optimiser: the loss
-- value is whatever loss(x, y) returns, and each update is logged.
local function fake_cnn(log)
  local fake = { core = cnn.core, wallclock = cnn.wallclock }
  function fake.withgradient(f, ps)
    local v = f()
    log[#log + 1] = "loss " .. tostring(v)
    return v, { ps = ps }
  end
  function fake.update(fname, opt, ps, gs)
    assert(fname == "train" and gs.ps == ps)
    log[#log + 1] = "update " .. opt
  end
  local train = load_with("cnn.train", {
    ["cnn.autograd"] = {
      withgradient_reached = function(_, f, ps)
        local v, gs = fake.withgradient(f, ps)
        return v, gs, 1
      end,
      item = cnn.item,
    },
    ["cnn.optimisers.kind"] = {update = fake.update, is_optimiser = function() return false end},
  })
  for k, v in pairs(train) do fake[k] = v end
  return fake
end

-- Collects what is written to io.stdout while f runs.
local function capture_stdout(f)
  local written = {}
  local saved = io.stdout
  io.stdout = { write = function(self, ...)
    for _, s in ipairs({ ... }) do written[#written + 1] = tostring(s) end
    return self
  end, flush = function() end }
  local ok, err = pcall(f)
  io.stdout = saved
  if not ok then error(err, 0) end
  return table.concat(written)
end

local function lines_of(s)
  local lines = {}
  for line in s:gmatch("[^\n]+") do lines[#lines + 1] = line end
  return lines
end

-- A callable iterable in the generic-for protocol, as a DataLoader is:
-- `for x, y in it do`.
local function iterable(items)
  return setmetatable({}, {
    __call = function(_, _, control)
      local i = control == nil and 1 or control.i + 1
      if items[i] == nil then return nil end
      return { i = i, x = items[i][1] }, items[i][2]
    end,
    __len = function() return #items end,
  })
end

describe("train loop", function()
  it("for each element: loss(x, y), update, then each callback, in order", function()
    local log = {}
    local t = fake_cnn(log)
    local cbs = {
      function(info) log[#log + 1] = ("cb1 %d %g"):format(info.step, info.loss) end,
      function() log[#log + 1] = "cb2" end,
    }
    local mean, steps = t.train(function(x, y) return x + y end, "ps",
      { { 1, 2 }, { 3, 4 } }, "opt", { cb = cbs, progress = false })
    assert.are.same({ "loss 3", "update opt", "cb1 1 3", "cb2",
                      "loss 7", "update opt", "cb1 2 7", "cb2" }, log)
    assert.are.equal(5, mean)
    assert.are.equal(2, steps)
  end)

  it("spreads each element of a callable iterable into the loss", function()
    local log = {}
    local t = fake_cnn(log)
    t.train(function(a, b) return a.x * b end, "ps", iterable { { 2, 10 }, { 3, 100 } }, "opt",
      { cb = function() log[#log + 1] = "cb" end, progress = false })
    assert.are.same({ "loss 20", "update opt", "cb", "loss 300", "update opt", "cb" }, log)
  end)

  it("passes a non-table element as the only argument", function()
    local log = {}
    local t = fake_cnn(log)
    t.train(function(x, y) assert(y == nil); return x end, "ps", { 5, 6 }, "opt", { progress = false })
    assert.are.same({ "loss 5", "update opt", "loss 6", "update opt" }, log)
  end)

  it("stop() in a callback ends training after that batch, skipping later callbacks", function()
    local log = {}
    local t = fake_cnn(log)
    local data = {}
    for i = 1, 10 do data[i] = { i, 0 } end
    local _, steps = t.train(function(x) return x end, "ps", data, "opt", {
      progress = false,
      cb = {
        function(info) if info.step == 3 then t.stop() end end,
        function(info) log[#log + 1] = "cb2 " .. info.step end,
      },
    })
    assert.are.equal(3, steps)
    assert.are.same({ "loss 1", "update opt", "cb2 1", "loss 2", "update opt", "cb2 2",
                      "loss 3", "update opt" }, log)
    -- the next call starts afresh
    log = {}
    local _, again = t.train(function(x) return x end, "ps", data, "opt", { progress = false })
    assert.are.equal(10, again)
  end)

  it("stop() in a nested train ends only the inner one", function()
    local t = fake_cnn({})
    local inner_steps = {}
    local data = { { 1 }, { 2 }, { 3 } }
    local _, outer = t.train(function(x) return x end, "ps", data, "opt", {
      progress = false,
      cb = function()
        local _, n = t.train(function(x) return x end, "ps", data, "opt",
          { progress = false, cb = function() t.stop() end })
        inner_steps[#inner_steps + 1] = n
      end,
    })
    assert.are.equal(3, outer)
    assert.are.same({ 1, 1, 1 }, inner_steps)
  end)

  it("stop() outside training is an error", function()
    assert.has_error(function() cnn.stop() end, "stop: no cnn.train is running")
  end)

  it("a NaN or infinite loss stops with an error naming the step, before the update", function()
    local log = {}
    local t = fake_cnn(log)
    local data = {}
    for i = 1, 40 do data[i] = { i } end
    assert.has_error(function()
      t.train(function(x) return x == 37 and 0 / 0 or 1 end, "ps", data, "opt", { progress = false })
    end, "train: loss is NaN at step 37")
    assert.are.equal("loss nan", (log[#log]:gsub("-", "")))
    assert.are.equal(36 * 2 + 1, #log)
    assert.has_error(function()
      t.train(function(x) return x == 2 and math.huge or 1 end, "ps", data, "opt", { progress = false })
    end, "train: loss is Inf at step 2")
    assert.has_error(function()
      t.train(function() return -math.huge end, "ps", data, "opt", { progress = false })
    end, "train: loss is -Inf at step 1")
  end)

  it("lets an error in the loss through unchanged, ending the progress line first", function()
    local t = fake_cnn({})
    local data = { { 1 }, { 2 }, { 3 } }
    local err
    local out = capture_stdout(function()
      err = select(2, pcall(t.train, function(x)
        if x == 2 then error({ code = 42 }) end
        return x
      end, "ps", data, "opt", { progress = "lines" }))
    end)
    assert.are.same({ code = 42 }, err)
    assert.matches("^pass 1/1: 1 batch, mean loss 1%.0000, .*\n$", out)
    assert.has_error(function() t.stop() end, "stop: no cnn.train is running")
    local ok, msg = pcall(t.train, function() error("bad loss") end, "ps", data, "opt", { progress = false })
    assert.is_false(ok)
    assert.matches("train_spec%.lua:%d+: bad loss$", msg)
  end)

  it("checks its arguments", function()
    local t = fake_cnn({})
    assert.has_error(function() t.train(1, "ps", {}, "opt") end, "train: loss must be a function, got number")
    assert.has_error(function() t.train(print, "ps", 3, "opt") end,
      "train: data must be an iterable or an array, got number")
    assert.has_error(function() t.train(print, "ps", {}, "opt", { cb = 3 }) end,
      "train: cb must be a function or a list of functions, got number")
    assert.has_error(function() t.train(print, "ps", {}, "opt", { cb = { print, 3 } }) end,
      "train: cb[2] is a number, not a function")
    assert.has_error(function() t.train(print, "ps", {}, "opt", { progress = "yes" }) end,
      'train: progress must be true, false, "bar" or "lines", got yes')
  end)
end)

describe("train progress", function()
  it("off a terminal prints one summary line per pass", function()
    local t = fake_cnn({})
    local data = {}
    for i = 1, 5 do data[i] = { cnn.zeros(2, 3), i } end
    local out = capture_stdout(function()
      t.train(function(_, y) return y end, "ps", data, "opt", { progress = "lines" })
    end)
    local lines = lines_of(out)
    assert.are.equal(1, #lines)
    assert.matches("^pass 1/1: 5 batches, mean loss 3%.0000, %d+ img/s, %d+%.%d s, RSS %d+ MiB$", lines[1])
  end)

  it("counts passes of a repeated loader", function()
    local t = fake_cnn({})
    local loader = { { 1 }, { 2 } }
    local cycle = setmetatable({ loader = loader }, {
      __call = function(self, _, control)
        local i = (control or 0) + 1
        if i > 3 * #self.loader then return nil end
        return i, self.loader[(i - 1) % 2 + 1][1]
      end,
      __len = function(self) return 3 * #self.loader end,
    })
    local out = capture_stdout(function()
      t.train(function(_, y) return y end, "ps", cycle, "opt", { progress = "lines" })
    end)
    local lines = lines_of(out)
    assert.are.equal(3, #lines)
    for p = 1, 3 do
      assert.matches(("^pass %d/3: 2 batches, mean loss 1%%.5000, "):format(p), lines[p])
    end
  end)

  it("prints one line per pass of a DataLoader and of ncycle(loader, n)", function()
    local t = fake_cnn({})
    local loader = cnn.DataLoader(cnn.zeros(2, 10), cnn.ones(1, 10), { batchsize = 4 })
    local sizes = {}
    local function loss(x, y)
      sizes[#sizes + 1] = x:size(2)
      return cnn.core.sum(y)
    end
    local out = capture_stdout(function()
      t.train(loss, "ps", loader, "opt", { progress = "lines" })
    end)
    local lines = lines_of(out)
    assert.are.equal(1, #lines)
    assert.matches("^pass 1/1: 3 batches, mean loss 3%.3333, ", lines[1])
    assert.are.same({ 4, 4, 2 }, sizes)
    out = capture_stdout(function()
      t.train(loss, "ps", cnn.ncycle(loader, 2), "opt", { progress = "lines" })
    end)
    lines = lines_of(out)
    assert.are.equal(2, #lines)
    assert.matches("^pass 1/2: 3 batches, ", lines[1])
    assert.matches("^pass 2/2: 3 batches, ", lines[2])
  end)

  it("ends a pass of unknown length, or a stopped one, with its line", function()
    local t = fake_cnn({})
    local out = capture_stdout(function()
      t.train(function(x) return x end, "ps", function(_, c)
        c = (c or 0) + 1
        if c <= 4 then return c end
      end, "opt", { progress = "lines", cb = function(info) if info.step == 2 then t.stop() end end })
    end)
    assert.are.equal(1, #lines_of(out))
    assert.matches("^pass 1: 2 batches, mean loss 1%.5000", out)
  end)

  it("on a terminal redraws one line with \\r and ends it at the end of the pass", function()
    local t = fake_cnn({})
    local data = {}
    for i = 1, 3 do data[i] = { cnn.zeros(4, 8), 1 } end
    local out = capture_stdout(function()
      t.train(function(_, y) return y end, "ps", data, "opt", { progress = "bar" })
    end)
    assert.matches("^\r", out)
    assert.matches("\n$", out)
    assert.are.equal(1, #lines_of(out))
    assert.matches("3/3 %[" .. ("█"):rep(20) .. "%]  loss 1%.0000  %d+ img/s  0:00 < 0:00", out)
  end)

  it("is silent with progress = false", function()
    local t = fake_cnn({})
    local out = capture_stdout(function()
      t.train(function(x) return x end, "ps", { { 1 }, { 2 } }, "opt", { progress = false })
    end)
    assert.are.equal("", out)
  end)
end)

describe("accuracy", function()
  -- The model is the identity, so x holds the class scores: 3 classes, 5
  -- samples, predicted classes 2, 3, 2, 1, 3.
  local scores = cnn.tensor { { 0.1, 0.2, 0.3, 0.9, 0.1 },
                              { 0.8, 0.1, 0.6, 0.0, 0.2 },
                              { 0.1, 0.7, 0.1, 0.1, 0.7 } }
  local function identity(x) return x end

  it("is the fraction of columns whose argmax matches the one-hot y, in batches", function()
    local y = cnn.tensor { { 0, 0, 0, 1, 1 },
                           { 1, 0, 1, 0, 0 },
                           { 0, 1, 0, 0, 0 } }
    assert.are.equal(0.8, cnn.accuracy(identity, scores, y))
    local seen = {}
    local function model(x) seen[#seen + 1] = x:size(2); return x end
    assert.are.equal(0.8, cnn.accuracy(model, scores, y, nil, 2))
    assert.are.same({ 2, 2, 1 }, seen)
  end)

  it("compares with labels given a label set", function()
    local labels = cnn.tensor({ 8, 9, 7, 7, 8 }, "int32")
    assert.are.equal(0.6, cnn.accuracy(identity, scores, labels, { 7, 8, 9 }))
    assert.are.equal(0.6, cnn.accuracy(identity, scores, { 8, 9, 7, 7, 8 }, cnn.range(7, 9), 3))
    assert.are.equal(0.6, cnn.accuracy(identity, scores, cnn.tensor { 8, 9, 7, 7, 8 }, { 7, 8, 9 }, 4))
  end)

  it("runs the model in test mode and restores its modes", function()
    local drop = cnn.Dropout(0.99)
    local model = cnn.Chain(drop)
    cnn.trainmode(model)
    local y = cnn.tensor { { 0, 0, 0, 1, 0 }, { 1, 0, 1, 0, 0 }, { 0, 1, 0, 0, 1 } }
    assert.are.equal(1, cnn.accuracy(model, scores, y))
    assert.are.equal("train", drop.mode)
  end)

  it("checks the sizes", function()
    assert.has_error(function() cnn.accuracy(identity, scores, cnn.zeros(3, 4)) end,
      "accuracy: x has 5 images (3×5) but y has 4 (3×4)")
    assert.has_error(function() cnn.accuracy(identity, scores, { 1, 2 }, { 1, 2, 3 }) end,
      "accuracy: x has 5 images (3×5) but y has 2 (2 labels)")
    assert.has_error(function() cnn.accuracy(identity, scores, { 1, 2 }) end,
      "accuracy: y must be a one-hot tensor, or labels with a labelset")
  end)
end)

-- The first n MNIST training images (W×H×1×n in [0, 1]) and their labels.
local function mnist_slice(n)
  local dir = (os.getenv("CNNLUA_DATA") or "data") .. "/mnist/"
  local imgs = cnn.core.read_idx(dir .. "train-images-idx3-ubyte")
  local labels = cnn.core.read_idx(dir .. "train-labels-idx1-ubyte")
  local x = (imgs:narrow(3, 1, n) / 255):reshape(28, 28, 1, n)
  return x, labels:narrow(1, 1, n):int()
end

local function notebook_model()
  return cnn.Chain(
    cnn.Conv({ 3, 3 }, 1, 16, cnn.relu, { pad = { 1, 1 } }), cnn.MaxPool({ 2, 2 }),
    cnn.Conv({ 3, 3 }, 16, 32, cnn.relu, { pad = { 1, 1 } }), cnn.MaxPool({ 2, 2 }),
    cnn.Conv({ 3, 3 }, 32, 32, cnn.relu, { pad = { 1, 1 } }), cnn.MaxPool({ 2, 2 }),
    function(x) return x:reshape(-1, x:size(4)) end,
    cnn.Dense(288, 10), cnn.softmax)
end

describe("train on MNIST", function()
  it("lowers the loss and raises the accuracy of the notebook model on 256 images", function()
    cnn.seed(1)
    local n, batch = 256, 32
    local x, labels = mnist_slice(n)
    local digits = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }
    local y = cnn.core.onehotbatch(labels, digits)
    local model = notebook_model()
    local function loss(a, b) return cnn.crossentropy(model(a), b) end
    local data = {}
    for i = 1, n // batch do
      data[i] = { x:narrow(4, (i - 1) * batch + 1, batch), y:narrow(2, (i - 1) * batch + 1, batch) }
    end
    local before = cnn.item(loss(x, y))
    local accuracy_before = cnn.accuracy(model, x, labels, digits)
    local opt = cnn.ADAM(0.003)
    local steps = 0
    for _ = 1, 3 do
      local mean, k = cnn.train(loss, cnn.params(model), data, opt, { progress = false })
      assert.is_true(mean == mean)
      steps = steps + k
    end
    assert.are.equal(24, steps)
    local after = cnn.item(loss(x, y))
    assert.is_true(after < 0.7 * before, ("loss %.4f → %.4f"):format(before, after))
    local accuracy_after = cnn.accuracy(model, x, labels, digits)
    assert.is_true(accuracy_after > accuracy_before + 0.3,
      ("accuracy %.4f → %.4f"):format(accuracy_before, accuracy_after))
    assert.are.equal(accuracy_after, cnn.accuracy(model, x, y, nil, 100))
  end)
end)

describe("train progress bar and printing callbacks", function()
  it("clears the bar before a callback prints, and draws it again after", function()
    local t = fake_cnn({})
    local data = {}
    for i = 1, 3 do data[i] = { cnn.zeros(4, 8), 1 } end
    local saved = _G.print
    local out = capture_stdout(function()
      _G.print = function(s) io.stdout:write(s, "\n") end
      local ok, err = pcall(t.train, function(_, y) return y end, "ps", data, "opt", {
        progress = "bar",
        cb = function(info) if info.step == 1 then print("accuracy = 0.5") end end,
      })
      _G.print = saved
      assert(ok, err)
    end)
    assert.are.equal(saved, _G.print)
    -- bar after step 1, erased, the printed line, then the bar again
    local bar1, erase, rest = out:match("^(\r1/3 [^\r\n]*)(\r +\r)accuracy = 0%.5\n(.*)$")
    assert.is_not_nil(bar1, out)
    assert.are.equal(#erase - 2, utf8.len(bar1) - 1)
    assert.matches("^\r2/3 [^\n]*\r3/3 [^\n]*\n$", rest)
  end)
end)

describe("examples/mnist_cnn.lua", function()
  it("runs every notebook cell on 256 training images for 1 epoch", function()
    local host = os.getenv("CNNLUA") or "build/cnnlua"
    local pipe = assert(io.popen(host .. " examples/mnist_cnn.lua 1 256 2>&1"))
    local out = pipe:read("a")
    local ok, how, code = pipe:close()
    assert.is_true(ok, ("exit %s %s:\n%s"):format(how, code, out))
    local expected = {
      "imgs:size(3) = 60000\n",
      "labels[1] = 5\n",
      "imgs[1]:reshape(-1) = 784-element Tensor{Float32,1}:\n",
      "onehot(5, 0:9) = 10-element Tensor{Float32,1}:\n",
      "onecold(onehot(5, 0:9), 0:9) = 5\n",
      "tX:size(4) = 10000\n",
      "Chain(\n  Conv((3, 3), 1 => 16, relu, pad=1),",
      "model(imgs[1]) = 10×1 Tensor{Float32,2}:\n",
      "X:size() = {28, 28, 1, 256}\n",
      "Y:size() = {10, 256}\n",
      "#loader = 2\n",
      "accuracy(tX, tY) = 0.",
      "pass 1/1: 2 batches, mean loss ",
      " seconds (",
      "accuracy(tX, tY) = 0.",
      "onecold(model(tX[:, :, :, 1:1]), 0:9)[1] = ",
    }
    local at = 1
    for _, s in ipairs(expected) do
      local first, last = out:find(s, at, true)
      assert.is_not_nil(first, ("%q missing after position %d of:\n%s"):format(s, at, out))
      at = last + 1
    end
    -- the picture of the first image: 28 lines of 56 characters
    assert.matches("labels%[1%] = 5\n" .. ("[ ░▒▓█]+\n"):rep(28) .. "imgs%[1%]", out)
    -- then the plot of the training: the loss of its 2 steps and the test
    -- accuracy of its 1 pass, in at most 24 lines
    local plot = out:match("%)%[1%] = %d\n(.*)$")
    assert.is_not_nil(plot, out)
    local lines = {}
    for line in plot:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
    assert.is_true(#lines <= 24, plot)
    assert.matches("^%s+training$", lines[1])
    assert.matches("^%s+loss$", lines[2])
    assert.matches("\n%s+accuracy\n", plot)
    assert.matches("\n%s+1%s+2\n%s+step\n$", plot)
  end)

  it("trains in bf16 with CNNLUA_PRECISION=bf16 and refuses a precision it does not know", function()
    local host = os.getenv("CNNLUA") or "build/cnnlua"
    local function run(precision)
      local pipe = assert(io.popen(("CNNLUA_PRECISION=%s %s examples/mnist_cnn.lua 1 256 2>&1")
        :format(precision, host)))
      local out = pipe:read("a")
      return pipe:close(), out
    end
    local ok, out = run("bf16")
    assert.is_true(ok, out)
    assert.is_truthy(out:find("pass 1/1: 2 batches, mean loss ", 1, true), out)
    ok, out = run("fp16")
    assert.is_falsy(ok, out)
    assert.is_truthy(out:find('train: precision must be "fp32" or "bf16", got "fp16"', 1, true), out)
  end)
end)

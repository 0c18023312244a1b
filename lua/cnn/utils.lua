--- Utilities for notebooks and training scripts: throttle, time, show,
-- accuracy, confusion and a terminal picture of an image.
-- @module cnn.utils

local core = require "cnn.core"
local data = require "cnn.data"
local models = require "cnn.layers.models"
local argcheck = require "cnn.argcheck"
local tensorcheck = require "cnn.tensorcheck"
local labelsets = require "cnn.labelset"
local tensorlist = require "cnn.tensorlist"
local timing = require "cnn.timing"

local function has_tostring(value)
  local mt = getmetatable(value)
  return type(mt) == "table" and mt.__tostring ~= nil
end

--- A value as @show prints it: strings quoted, plain arrays as {1, 2, 3},
-- an array of more than 4 tensors (such as `cnn.params(m)`) as one line,
-- "8 arrays, 16_440 numbers: 3×3×1×16 Float32, 16 Float32, 3×3×16×32
-- Float32, …", everything else (tensors, models, tables with other keys)
-- through tostring. Exported as `cnn.repr`, which the prompt uses for
-- plain tables.
-- @function repr
-- @param value any value
-- @treturn string
-- @usage cnn.repr({1, 2, 3}) --> "{1, 2, 3}"
-- cnn.repr(cnn.params(cnn.Chain(cnn.Dense(2, 2), cnn.Dense(2, 2), cnn.Dense(2, 2))))
-- --> "6 arrays, 18 numbers: 2×2 Float32, 2 Float32, 2×2 Float32, …"
local function show_value(value)
  if type(value) == "string" then return ("%q"):format(value) end
  if type(value) ~= "table" or has_tostring(value) then return tostring(value) end
  if tensorlist.is_long(value) then return tensorlist.summary(value) end
  local items = {}
  for i = 1, #value do
    local v = value[i]
    items[i] = type(v) == "table" and not has_tostring(v) and "{…}" or show_value(v)
  end
  if #items == 0 and next(value) ~= nil then return tostring(value) end
  return "{" .. table.concat(items, ", ") .. "}"
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

--- Rounds x into 1..n for the shading ramp.
local function shade_index(x, lo, hi, n)
  if hi <= lo then return x > lo and n or 1 end
  local i = math.floor((x - lo) / (hi - lo) * (n - 1) + 0.5) + 1
  return math.max(1, math.min(n, i))
end

local RAMP = { " ", "░", "▒", "▓", "█" }

--- The two spatial sizes of a W×H image with any trailing singleton dims.
local function image_sizes(fname, t)
  argcheck.tensor(fname, "image", t)
  local s = t:size()
  local one_image = #s >= 2
  for d = 3, #s do one_image = one_image and s[d] == 1 end
  if not one_image then
    argcheck.raise(("%s: expected one W×H image, got %s"):format(fname, tensorcheck.sizes_text(s)))
  end
  if s[1] == 0 or s[2] == 0 then
    argcheck.raise(("%s: the image %s has no pixels"):format(fname, tensorcheck.sizes_text(s)))
  end
  return s[1], s[2]
end

local is_callable = argcheck.is_callable

--- Seconds on a monotonic wall clock, for timing code (os.clock counts the
-- CPU time of every thread, which runs ahead of the wall when OpenMP is
-- busy). The one clock of the library: train, time and profile read it.
-- @function wallclock
-- @treturn number seconds
-- @usage local t0 = cnn.wallclock()
local clock = core.monotime

--- Wraps f so that it runs at most once every `seconds`: the first call
-- runs at once, calls within `seconds` of the end of the last run are
-- dropped and return nil (Flux's throttle with leading=true, trailing=false).
-- @tparam function f
-- @tparam number seconds
-- @treturn function
-- @function throttle
-- @usage local report = cnn.throttle(function() print(cnn.accuracy(model, tx, ty)) end, 10)
local function throttle(f, seconds)
  if not is_callable(f) then
    argcheck.raise(("throttle: expected a function, got %s"):format(type(f)))
  end
  if type(seconds) ~= "number" or seconds ~= seconds or seconds < 0 then
    argcheck.raise("throttle: seconds must be a number >= 0")
  end
  local last
  return function(...)
    local now = clock()
    if last ~= nil and now - last < seconds then return nil end
    last = now
    local results = table.pack(f(...))
    last = clock()
    return table.unpack(results, 1, results.n)
  end
end

--- Runs f(...) and prints its wall time and the tensor memory it
-- allocated, like Julia's @time; returns f's results. The prompt's
-- `.time on` prints the same line after every line it runs.
-- @function time
-- @param f the function
-- @param ... its arguments
-- @return the results of f
-- @usage cnn.time(cnn.train, loss, ps, loader, opt)
local function time(f, ...)
  argcheck.callable("time", "f", f)
  local mark = timing.start()
  local results = table.pack(f(...))
  print(timing.report(mark))
  return table.unpack(results, 1, results.n)
end

-- A table of names to values, as show{x = x} takes: plain, with string
-- keys only, and at least one.
local function is_names_table(t)
  if type(t) ~= "table" or getmetatable(t) ~= nil or next(t) == nil then return false end
  for k in pairs(t) do
    if type(k) ~= "string" then return false end
  end
  return true
end

--- Prints "name = value" like Julia's @show: show("x", x) returns x;
-- show{x = x, y = y} prints one line per name, sorted. Any other single
-- value (a plain array, a tensor, a number, a list of parameters) prints
-- as the prompt shows it, through `cnn.repr`, and is returned: in a
-- script, cnn.show(t:size()) prints {28, 28, 1, 128}.
-- @function show
-- @param name a name, a table of names to values, or the value itself
-- @param ... the value, after a name
-- @return the value
-- @usage cnn.show("loss", loss)
-- cnn.show{x = x, y = y}
-- cnn.show(cnn.params(model))
local function show(name, ...)
  if select("#", ...) == 0 and type(name) ~= "string" then
    if is_names_table(name) then
      for _, k in ipairs(sorted_keys(name)) do
        print(("%s = %s"):format(tostring(k), show_value(name[k])))
      end
      return
    end
    print(show_value(name))
    return name
  end
  if type(name) ~= "string" then
    argcheck.raise(("show: expected show(name, value), show{name = value} or show(value), got a %s name")
      :format(type(name)))
  end
  argcheck.arity("show", 2, "name, value", name, ...)
  local value = ...
  print(("%s = %s"):format(name, show_value(value)))
  return value
end

--- A W×H image (x fastest, as MNIST is stored) as text, one line per
-- image row, two characters per pixel, shaded from 0 (or the darkest
-- pixel, if negative) to the brightest pixel.
local function image_text(fname, t, ...)
  argcheck.arity(fname, 1, "image", t, ...)
  local w, h = image_sizes(fname, t)
  local image = t:contiguous():reshape(w, h):float()
  local lo, hi = math.min(0, core.minimum(image)), core.maximum(image)
  local pixels = core.totable(image) -- shown, also from a tracked tensor
  local lines = {}
  for y = 1, h do
    local row = {}
    for x = 1, w do
      local c = RAMP[shade_index(pixels[x][y], lo, hi, #RAMP)]
      row[x] = c .. c
    end
    lines[y] = table.concat(row)
  end
  return table.concat(lines, "\n")
end

--- A W×H image (x fastest, as MNIST is stored) as text, one line per
-- image row, two characters per pixel, shaded from 0 (or the darkest
-- pixel, if negative) to the brightest pixel.
-- @tparam Tensor t W×H, or W×H×1×1
-- @treturn string
-- @function imagestring
-- @param ... nothing more
-- @usage print(cnn.imagestring(cnn.datasets.MNIST.images()[1]))
local function imagestring(t, ...)
  return image_text("imagestring", t, ...)
end

--- Prints a W×H image as block characters (see imagestring).
-- @tparam Tensor t W×H, or W×H×1×1
-- @function showimage
-- @param ... nothing more
-- @usage cnn.showimage(cnn.datasets.MNIST.images()[1])
local function showimage(t, ...)
  print(image_text("showimage", t, ...))
end

local shape = argcheck.shape

local function count_of(y)
  if type(y) == "table" and getmetatable(y) == nil then return #y end
  return y:size(y:ndims())
end

local function slice_of(y, first, len)
  if type(y) == "table" and getmetatable(y) == nil then
    return table.move(y, first, first + len - 1, 1, {})
  end
  return y:narrow(y:ndims(), first, len)
end

-- Layers with a mode (Dropout, BatchNorm) in the model, and their modes.
local function modes_of(model)
  local saved = {}
  local function visit(l)
    if type(l) ~= "table" then return end
    if l.set_mode then saved[#saved + 1] = { l, l.mode } end
    if l.children then
      for _, child in ipairs(l:children()) do visit(child) end
    end
  end
  visit(model)
  return saved
end

--- Runs f with the model in test mode (dropout off, batch norm on its
-- running statistics), then puts each layer back in the mode it was in.
local function in_testmode(model, f)
  local saved = modes_of(model)
  if #saved == 0 then return f() end
  -- closed however f ends, an interrupt between two lines included
  local _ <close> = core.closer(function()
    for _, s in ipairs(saved) do s[1]:set_mode(s[2]) end
  end)
  models.testmode(model)
  return f()
end

-- The labels of a tensor or a Lua array, as a Lua array.
local function label_list(v)
  if argcheck.is_tensor(v) then return core.totable(core.reshape(v, -1)) end
  return v
end

-- Every label of y must be in the label set: the first that is not is
-- named with its position. Other faults of the label set are told as
-- onehotbatch finds them, under fname.
local function check_labels(fname, y, labelset)
  if type(labelset) ~= "table" and not argcheck.is_tensor(labelset) then
    argcheck.fail(fname, "labelset", "a list or a tensor of labels", labelset)
  end
  local ok, e = pcall(data.onehotbatch, y, labelset)
  if ok then return end
  local set = label_list(labelset)
  local at, label = labelsets.first_missing(label_list(y), set)
  if at then
    argcheck.raise(("%s: label %s at position %d is not in the label set %s"):format(fname,
      labelsets.value_string(label), at, labelsets.set_string(set)))
  end
  argcheck.raise(fname .. ": " .. tostring(e):gsub("^[^:]*:%d+: ", "", 1):gsub("^onehotbatch: ", "", 1))
end

-- Checks the arguments of accuracy and confusion; returns the number
-- of images and the batch size.
local function check_evaluation(fname, model, x, y, labelset, batchsize, ...)
  argcheck.arity(fname, 5, "model, x, y, labelset, batchsize", model, x, y, labelset, batchsize, ...)
  if not is_callable(model) then
    argcheck.fail(fname, "model", "a layer or a model such as a Chain", model)
  end
  argcheck.tensor(fname, "x", x)
  if x:ndims() == 0 then argcheck.fail(fname, "x", "a tensor of images, the last dimension the batch", x) end
  if labelset == nil and not argcheck.is_tensor(y) then
    argcheck.raise(("%s: y must be a one-hot tensor, or labels with a labelset"):format(fname))
  end
  if argcheck.is_tensor(y) then
    argcheck.tensor(fname, "y", y)
    if y:ndims() == 0 then argcheck.fail(fname, "y", "a one-hot tensor or labels", y) end
    if labelset == nil and y:size(1) == 0 then
      argcheck.raise(("%s: y has no classes (%s); a one-hot y is classes×N"):format(fname, shape(y)))
    end
  elseif not argcheck.is_list(y) then
    argcheck.fail(fname, "y", "a tensor or a list of labels", y)
  end
  local distributed = false
  if type(batchsize) == "table" and getmetatable(batchsize) == nil then
    local opts = argcheck.options(fname, batchsize, {batchsize = true, distributed = true})
    distributed = argcheck.optional_boolean(fname, "options.distributed", opts.distributed, false)
    batchsize = opts.batchsize
  end
  batchsize = batchsize == nil and 1000 or argcheck.integer(fname, "batchsize", batchsize, 1)
  local n = x:size(x:ndims())
  if count_of(y) ~= n then
    local ys = argcheck.is_tensor(y) and shape(y) or ("%d labels"):format(#y)
    argcheck.raise(("%s: x has %d images (%s) but y has %d (%s)"):format(fname, n, shape(x),
      count_of(y), ys))
  end
  if n == 0 then argcheck.raise(fname .. ": no images") end
  if labelset ~= nil then check_labels(fname, y, labelset) end
  return n, batchsize, distributed
end

-- The images this rank evaluates: all of them, or with `distributed`
-- its contiguous share of the n (rank·n/size, (rank+1)·n/size].
local function own_share(x, y, n, distributed)
  if not distributed then return x, y, n end
  local rank, size = core.distributed_rank(), core.distributed_size()
  local lo, hi = rank * n // size, (rank + 1) * n // size
  if hi == lo then return nil, nil, 0 end
  return x:narrow(x:ndims(), lo + 1, hi - lo), slice_of(y, lo + 1, hi - lo), hi - lo
end

-- Runs the model on x in batches of `batchsize` images, in test mode,
-- calling visit(yhat, yb) with each batch's output (checked to have
-- `classes` rows) and targets.
local function each_prediction(fname, model, x, y, n, batchsize, classes, visit)
  if n == 0 then return end
  in_testmode(model, function()
    for first = 1, n, batchsize do
      local len = math.min(batchsize, n - first + 1)
      local yhat = model(x:narrow(x:ndims(), first, len))
      if not argcheck.is_tensor(yhat) or yhat:ndims() == 0 then
        argcheck.raise(("%s: the model returned %s, not classes×N scores"):format(fname,
          argcheck.describe(yhat)))
      end
      if yhat:size(1) ~= classes then
        argcheck.raise(("%s: the model gives %d classes (%s), expected %d")
          :format(fname, yhat:size(1), shape(yhat), classes))
      end
      if yhat:ndims() ~= 2 or yhat:size(2) ~= len then
        argcheck.raise(("%s: the model gives %s for %d images, expected %d×%d")
          :format(fname, shape(yhat), len, classes, len))
      end
      visit(yhat, slice_of(y, first, len))
    end
  end)
end

-- The number of classes: of the label set, or the rows of a one-hot y.
local function class_count(y, labelset)
  if labelset == nil then return y:size(1) end
  if argcheck.is_tensor(labelset) then return labelset:numel() end
  return #labelset
end

--- Fraction of the images of x that model classifies as y says:
-- mean(onecold(model(x)) == onecold(y)), evaluated in test mode in
-- batches of `batchsize` images (1000 by default). y is one-hot
-- (classes×N), or the labels (a tensor or a Lua array) with `labelset`.
-- @treturn number in [0, 1]
-- @function accuracy
-- @param model the classifier
-- @tparam Tensor x the images, the batch last
-- @param y one-hot classes×N, or the labels
-- @param[opt] labelset the labels in class order, when y holds labels
-- @param[opt=1000] batchsize images per evaluation, or a table of options:
--   batchsize, and distributed = true to share the images among the ranks
--   of an mpirun job (cnn.distributed), each evaluating its contiguous
--   part, the counts summed: every rank gets the accuracy of all of x
-- @usage cnn.accuracy(model, test_x, test_labels, cnn.range(0, 9))
-- cnn.accuracy(model, test_x, test_labels, cnn.range(0, 9), {distributed = true})
local function accuracy(model, x, y, labelset, batchsize, ...)
  local n, bs, distributed = check_evaluation("accuracy", model, x, y, labelset, batchsize, ...)
  local xs, ys, count = own_share(x, y, n, distributed)
  local correct = 0
  each_prediction("accuracy", model, xs, ys, count, bs, class_count(y, labelset), function(yhat, yb)
    local truth = labelset ~= nil and data.onehotbatch(yb, labelset) or yb
    correct = correct + core.sum(core.eq(core.onecold(yhat), core.onecold(truth)))
  end)
  if distributed then correct = core.distributed_allreduce_number(correct, "sum") end
  return correct / n
end

--- The confusion matrix of a classifier (Torch7's optim.ConfusionMatrix):
-- counts[i][j] is the number of images of class i that the model puts
-- in class j (classes in the order of `labelset`, or of the rows of a
-- one-hot y), evaluated as `accuracy` is; and the accuracy of each class,
-- the diagonal over the row sums (NaN for a class with no image).
-- @usage local counts, per_class = cnn.confusion(model, tX, test_labels, cnn.range(0, 9))
-- @treturn Tensor K×K Float32 counts, rows the true classes
-- @treturn Tensor K Float32 accuracy per class
-- @function confusion
-- @param model the classifier
-- @tparam Tensor x the images, the batch last
-- @param y one-hot classes×N, or the labels
-- @param[opt] labelset the labels in class order, when y holds labels
-- @param[opt=1000] batchsize images per evaluation, or a table of options
--   (batchsize, distributed), as for `accuracy`
local function confusion(model, x, y, labelset, batchsize, ...)
  local n, bs, distributed = check_evaluation("confusion", model, x, y, labelset, batchsize, ...)
  local xs, ys, count = own_share(x, y, n, distributed)
  local k = class_count(y, labelset)
  local classes = {}
  for i = 1, k do classes[i] = i end
  local counts = core.zeros(k, k)
  each_prediction("confusion", model, xs, ys, count, bs, k, function(yhat, yb)
    local truth = labelset ~= nil and data.onehotbatch(yb, labelset)
      or core.onehotbatch(core.onecold(yb), classes)
    local predicted = core.onehotbatch(core.onecold(yhat), classes)
    core.add(counts, core.matmul(truth, core.transpose(predicted)), counts)
  end)
  if distributed then core.distributed_allreduce(counts, "sum") end
  local identity = core.onehotbatch(classes, classes)
  local per_class = core.div(core.sum(core.mul(counts, identity), 2), core.sum(counts, 2))
  return counts, per_class:reshape(k)
end

return {
  accuracy = accuracy,
  confusion = confusion,
  throttle = throttle,
  time = time,
  show = show,
  repr = show_value,
  imagestring = imagestring,
  showimage = showimage,
  wallclock = clock,
}

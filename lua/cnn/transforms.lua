--- Data augmentation: transforms of batches of images W×H×C×N, for
-- DataLoader's `transform` option.
--
-- `cnn.Compose(cnn.RandomCrop(28, {pad = 4}), cnn.RandomFlip())` makes a
-- transform that a DataLoader applies to every batch of its first array.
-- Each transform runs in C over the whole batch (in parallel over the
-- samples of large batches),
-- drawing from the library's generator, so `cnn.seed` makes the
-- augmented batches reproducible. Called directly, `t(x)` gives a new
-- tensor and leaves x as it was; inside a DataLoader the results go to
-- buffers the loader keeps, as its batches do.
-- @module cnn.transforms

local core = require "cnn.core"
local argcheck = require "cnn.argcheck"
local errors = require "cnn.errors"
local tensorcheck = require "cnn.tensorcheck"

local Transform = {}
Transform.__index = Transform

local function is_transform(v)
  return getmetatable(v) == Transform
end

--- Refuses what is not a W×H×C×N Float32 batch of images.
local function check_images(fname, x)
  if tensorcheck.is_tensor(x) and not x:isfreed() and x:dtype() == "Float32" and x:ndims() == 4 then
    return x
  end
  if tensorcheck.is_tensor(x) and not x:isfreed() and x:ndims() == 3 then
    errors.raise(("%s: expected W×H×C×N images, got a %s tensor (reshape it to %d×%d×1×%d)"):format(
      fname, tensorcheck.shape(x), x:size(1), x:size(2), x:size(3)))
  end
  argcheck.fail(fname, "the input", "a Float32 W×H×C×N tensor of images", x)
end

--- The output buffer of transform t for sizes, from cache (kept and
-- reused) or, without a cache, a new tensor.
local function output(t, cache, sizes)
  if cache == nil then return core.zeros(sizes) end
  local key = table.concat(sizes, "x")
  local mine = cache[t]
  if mine == nil then
    mine = {}
    cache[t] = mine
  end
  local buf = mine[key]
  if buf == nil then
    buf = core.zeros(sizes)
    mine[key] = buf
  end
  return buf
end

--- Applies the transform to the batch x: the result may be x itself
-- when `owned` (x is the caller's to overwrite), else a buffer of cache
-- (or a new tensor without one).
function Transform:run(x, cache, owned)
  return self.kernel(self, x, cache, owned)
end

--- The sizes of the result for an input of sizes s, or an error naming
-- `fname` when the transform cannot take such inputs.
function Transform:outsize(fname, s)
  return self.sizes(self, fname, s)
end

--- t(x): the transform of a batch of images, as a new tensor.
function Transform:__call(x)
  check_images(tostring(self), x)
  local s = x:size()
  self:outsize(tostring(self), s)
  return self:run(x, nil, false)
end

function Transform:__tostring()
  return self.text
end

local function make(fields)
  return setmetatable(fields, Transform)
end

local function same_sizes(_, _, s) return s end

-- RandomCrop and RandomShift ----------------------------------------------

local function crop_sizes(t, fname, s)
  if t.width > s[1] + 2 * t.pad or t.height > s[2] + 2 * t.pad then
    errors.raise(("%s: %s cannot crop %d×%d from %d×%d images padded by %d"):format(
      fname, t.text, t.width, t.height, s[1], s[2], t.pad))
  end
  return {t.width, t.height, s[3], s[4]}
end

local function crop_kernel(t, x, cache)
  local s = x:size()
  local y = output(t, cache, {t.width, t.height, s[3], s[4]})
  return core.augment_crop(x, t.pad, y)
end

--- A random crop of every image, after padding it with `pad` zeros on
-- each side (a new position per image and batch).
-- @function RandomCrop
-- @param size the crop's width and height: an integer, or {W, H}
-- @tparam[opt] table opts pad (0): zeros added on each side before cropping
-- @treturn Transform
-- @usage local t = cnn.RandomCrop(28, {pad = 4}) -- 28×28 crops of 36×36 padded MNIST digits
local function RandomCrop(size, opts)
  local fname = "RandomCrop"
  local w, h
  if math.type(size) == "integer" and size >= 1 then
    w, h = size, size
  elseif argcheck.is_list(size) and #size == 2 then
    w = argcheck.integer(fname, "size[1]", size[1], 1)
    h = argcheck.integer(fname, "size[2]", size[2], 1)
  else
    argcheck.fail(fname, "size", "a positive integer or a list {W, H} of them", size)
  end
  opts = argcheck.options(fname, opts, {pad = true})
  local pad = opts.pad == nil and 0 or argcheck.integer(fname, "pad", opts.pad, 0)
  local shown = w == h and tostring(w) or ("(%d, %d)"):format(w, h)
  return make{
    name = fname, width = w, height = h, pad = pad, kernel = crop_kernel, sizes = crop_sizes,
    text = pad > 0 and ("RandomCrop(%s, pad=%d)"):format(shown, pad) or ("RandomCrop(%s)"):format(shown),
  }
end

local function shift_kernel(t, x, cache)
  local y = output(t, cache, x:size())
  return core.augment_crop(x, t.shift, y)
end

--- A random shift of every image by up to `shift` pixels in each
-- direction (a whole number of pixels, each of -shift..shift equally
-- likely), filling with zeros: a crop of the image's own size after
-- padding by `shift`.
-- @function RandomShift
-- @param shift the largest shift, a non-negative integer
-- @treturn Transform
-- @usage local t = cnn.RandomShift(2)
local function RandomShift(shift)
  argcheck.integer("RandomShift", "shift", shift, 0)
  return make{name = "RandomShift", shift = shift, kernel = shift_kernel, sizes = same_sizes,
    text = ("RandomShift(%d)"):format(shift)}
end

-- RandomFlip ----------------------------------------------------------------

local function in_place_or_buffer(t, x, cache, owned)
  if owned then return x end
  return output(t, cache, x:size())
end

local function flip_kernel(t, x, cache, owned)
  return core.augment_flip(x, t.p, in_place_or_buffer(t, x, cache, owned))
end

--- Mirrors every image left to right (along W) with probability p.
-- @function RandomFlip
-- @param[opt] p the probability of a flip (0.5), in [0, 1]
-- @treturn Transform
-- @usage local t = cnn.RandomFlip()
local function RandomFlip(p)
  p = argcheck.optional_number("RandomFlip", "p", p, 0.5, "[0, 1]")
  return make{name = "RandomFlip", p = p, kernel = flip_kernel, sizes = same_sizes,
    text = p == 0.5 and "RandomFlip()" or ("RandomFlip(%s)"):format(p)}
end

-- Normalize -----------------------------------------------------------------

local function normalize_sizes(t, fname, s)
  if s[3] ~= #t.mean then
    errors.raise(("%s: %s has %d channel%s, the images have %d (%s)"):format(fname, t.text,
      #t.mean, #t.mean == 1 and "" or "s", s[3], table.concat(s, "×")))
  end
  return s
end

local function normalize_kernel(t, x, cache, owned)
  return core.augment_normalize(x, t.mean, t.std, in_place_or_buffer(t, x, cache, owned))
end

local function numbers_text(v)
  local parts = {}
  for i, n in ipairs(v) do parts[i] = ("%g"):format(n) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function channel_list(fname, what, v, interval)
  if type(v) == "number" then v = {v} end
  if not argcheck.is_list(v) or #v == 0 then
    argcheck.fail(fname, what, "a number or a list of numbers, one per channel", v)
  end
  local out = {}
  for i = 1, #v do out[i] = argcheck.number(fname, ("%s[%d]"):format(what, i), v[i], interval) end
  return out
end

--- Normalises every channel c: (x - mean[c]) / std[c].
-- @function Normalize
-- @param mean a number or a list of numbers, one per channel
-- @param std a positive number or a list of them, one per channel
-- @treturn Transform
-- @usage local t = cnn.Normalize(0.1307, 0.3081) -- MNIST's mean and standard deviation
local function Normalize(mean, std)
  local fname = "Normalize"
  mean = channel_list(fname, "mean", mean)
  std = channel_list(fname, "std", std, "(0, inf)")
  if #mean ~= #std then
    errors.raise(("Normalize: mean has %d values, std has %d; give one of each per channel"):format(
      #mean, #std))
  end
  return make{name = fname, mean = mean, std = std, kernel = normalize_kernel, sizes = normalize_sizes,
    text = ("Normalize(%s, %s)"):format(numbers_text(mean), numbers_text(std))}
end

-- Compose -------------------------------------------------------------------

local function compose_kernel(t, x, cache, owned)
  for _, step in ipairs(t.steps) do
    x = step:run(x, cache, owned)
    owned = true -- every later step sees a buffer of ours
  end
  return x
end

local function compose_sizes(t, fname, s)
  for _, step in ipairs(t.steps) do s = step:outsize(fname, s) end
  return s
end

--- Several transforms applied in order, as one.
-- @function Compose
-- @param ... transforms (cnn.RandomCrop, cnn.RandomFlip, cnn.RandomShift, cnn.Normalize, cnn.Compose)
-- @treturn Transform
-- @usage local t = cnn.Compose(cnn.RandomCrop(28, {pad = 4}), cnn.RandomFlip())
local function Compose(...)
  local steps, texts = {}, {}
  for i = 1, select("#", ...) do
    local step = select(i, ...)
    if not is_transform(step) then
      argcheck.fail("Compose", ("argument %d"):format(i), "a transform such as cnn.RandomFlip()", step)
    end
    steps[i], texts[i] = step, tostring(step)
  end
  if #steps == 0 then errors.raise("Compose: expected at least one transform, got none") end
  return make{name = "Compose", steps = steps, kernel = compose_kernel, sizes = compose_sizes,
    text = ("Compose(%s)"):format(table.concat(texts, ", "))}
end

return {
  RandomCrop = RandomCrop,
  RandomShift = RandomShift,
  RandomFlip = RandomFlip,
  Normalize = Normalize,
  Compose = Compose,
  is_transform = is_transform,
  check_images = check_images,
}

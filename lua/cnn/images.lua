--- Single images: saveimage writes a PNG, loadimage reads a PNG, JPEG or
-- binary PGM/PPM file (decoded in C, as ImageFolder does).
-- @module cnn.images

local core = require "cnn.core"
local errors = require "cnn.errors"
local argcheck = require "cnn.argcheck"
local tensorcheck = require "cnn.tensorcheck"

--- Writes an image as an 8-bit PNG: x is W×H (gray) or W×H×C with C 1
-- or 3 (RGB), values in [0, 1] (clipped), x fastest as the loaders give.
-- @function saveimage
-- @tparam string path the file to write
-- @tparam Tensor x the image
-- @usage cnn.saveimage(os.tmpname() .. ".png", cnn.datasets.MNIST.images("test"):slice(3, 1, 1):reshape(28, 28))
local function saveimage(path, x)
  argcheck.string("saveimage", "path", path)
  if not tensorcheck.is_tensor(x) then argcheck.fail("saveimage", "x", "a W×H or W×H×C image tensor", x) end
  local ok, e = pcall(core.save_image, path, x)
  if not ok then errors.relocate(e, "saveimage", "save_image") end
end

--- Reads one image as a W×H×C Float32 tensor in [0, 1].
-- @function loadimage
-- @tparam string path a PNG, JPEG or binary PGM/PPM file
-- @tparam[opt] table opts channels (1 or 3; default the file's)
-- @treturn Tensor W×H×C
-- @usage local path = os.tmpname() .. ".png"; cnn.saveimage(path, cnn.rand(28, 28))
-- local x = cnn.loadimage(path, {channels = 1}) --> 28×28×1
local function loadimage(path, opts)
  argcheck.string("loadimage", "path", path)
  opts = argcheck.options("loadimage", opts, {channels = true})
  local o = {}
  if opts.channels ~= nil then o.channels = argcheck.choice("loadimage", "channels", opts.channels, {1, 3}) end
  local ok, x = pcall(core.read_images, {path}, o)
  if not ok then errors.relocate(x, "loadimage", "read_images") end
  return x:reshape(x:size(1), x:size(2), x:size(3))
end

return {saveimage = saveimage, loadimage = loadimage}

--- MNIST and Fashion-MNIST, read from the data folder.
--
-- `cnn.datasets.MNIST.images(split)` gives the images of a split ("train",
-- the default, or "test") as a contiguous 28×28×N Float32 tensor with
-- pixels in [0, 1] (x fastest, as the file stores them); `.labels(split)`
-- gives an Int32 vector of N labels 0–9. Both refuse a file that does not
-- hold unsigned bytes (IDX type 0x08), images that are not 28×28, labels
-- that are not a vector of digits. FashionMNIST has the same API, plus
-- `classes`, the names of its ten labels.
--
-- The data folder (holding mnist/ and fashion-mnist/) is the optional
-- second argument, else $CNNLUA_DATA, else the `data/` folder of the cnnlua
-- sources this file belongs to; `scripts/fetch-data` fills it. Nothing is
-- cached: every call reads the file, so dropped tensors are freed.
-- @module cnn.datasets

local core = require "cnn.core"
local errors = require "cnn.errors"
local tensorcheck = require "cnn.tensorcheck"

local split_prefix = {train = "train", test = "t10k"}

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

--- <repo>/data when this file sits in <repo>/lua/cnn/ of the sources
-- (recognised by scripts/fetch-data beside it); nil when installed.
local function source_data_folder()
  local source = debug.getinfo(1, "S").source
  if source:sub(1, 1) ~= "@" then return nil end
  local root = source:sub(2):match("^(.-)lua/cnn/datasets%.lua$")
  if root == nil then return nil end
  if root == "" then root = "./" end
  if not exists(root .. "scripts/fetch-data") then return nil end
  if root:sub(1, 1) ~= "/" and os.getenv("PWD") then
    root = os.getenv("PWD") .. "/" .. root:gsub("^%./", "")
  end
  return root .. "data"
end

local function data_folder(name, dir)
  if dir ~= nil then
    if type(dir) ~= "string" then
      error(("%s: the data folder must be a string, got %s"):format(name, type(dir)), 4)
    end
    return dir
  end
  local env = os.getenv("CNNLUA_DATA")
  if env and env ~= "" then return env end
  return source_data_folder() or error(("%s: no data folder: set CNNLUA_DATA to a folder "
    .. "holding mnist/ and fashion-mnist/ (scripts/fetch-data in the cnnlua sources "
    .. "fills one)"):format(name), 4)
end

local function check_split(fname, split)
  if split == nil then return "train" end
  if split_prefix[split] == nil then
    error(('%s: unknown split %s (valid splits: "train", "test")'):format(
      fname, type(split) == "string" and ('"' .. split .. '"') or tostring(split)), 3)
  end
  return split
end

--- The path of a file of the data set, raw or .gz, or an error that
-- says which file is missing and how to fetch it.
local function find_file(fname, dir, folder, stem)
  local path = ("%s/%s/%s"):format(data_folder(fname, dir), folder, stem)
  if exists(path) then return path end
  if exists(path .. ".gz") then return path .. ".gz" end
  error(("%s: missing %s (or %s.gz); run scripts/fetch-data to download it"):format(
    fname, path, path), 3)
end

--- The tensor of an IDX file of a data set, whose files all hold
-- unsigned bytes: a file of floats or signed integers would otherwise be
-- scaled or cast without a word. Errors name the function the user called.
local function read_bytes(fname, path, opts)
  local ok, x, kind = pcall(core.read_idx, path, opts)
  if not ok then
    errors.raise(fname .. ": " .. tostring(x):gsub("^[^:]*:%d+: ", "", 1):gsub("^read_idx: ", "", 1))
  end
  if kind ~= "ubyte" then
    errors.raise(("%s: %s holds %s data, expected unsigned bytes (IDX type 0x08)"):format(
      fname, path, kind))
  end
  return x
end

--- Refuses labels that are not digits, naming the first and where it is.
local function check_digits(fname, path, y)
  if y:numel() == 0 or core.maximum(y) <= 9 then return end
  local at = core.argmax(core.gt(y, 9))
  errors.raise(("%s: %s holds label %d at position %d, expected digits 0–9"):format(
    fname, path, y[at], at))
end

local function dataset(name, folder)
  local set = {}

  --- images([split [, dir]]): 28×28×N Float32 tensor in [0, 1].
  function set.images(split, dir)
    local fname = name .. ".images"
    split = check_split(fname, split)
    local path = find_file(fname, dir, folder, split_prefix[split] .. "-images-idx3-ubyte")
    local x = read_bytes(fname, path, {scale = 1 / 255})
    if x:ndims() ~= 3 or x:size(1) ~= 28 or x:size(2) ~= 28 then
      errors.raise(("%s: %s holds %s data, expected 28×28×N images"):format(
        fname, path, tensorcheck.shape(x)))
    end
    return x
  end

  --- labels([split [, dir]]): Int32 vector of N labels 0–9.
  function set.labels(split, dir)
    local fname = name .. ".labels"
    split = check_split(fname, split)
    local path = find_file(fname, dir, folder, split_prefix[split] .. "-labels-idx1-ubyte")
    local y = read_bytes(fname, path)
    if y:ndims() ~= 1 then
      errors.raise(("%s: %s holds %s data, expected a vector of labels"):format(
        fname, path, tensorcheck.shape(y)))
    end
    check_digits(fname, path, y)
    return y:int()
  end

  return set
end

local FashionMNIST = dataset("FashionMNIST", "fashion-mnist")
FashionMNIST.classes = {
  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

--- The data sets: MNIST, FashionMNIST and folder().
-- @table datasets
-- @usage local x = cnn.datasets.MNIST.images("test")
local datasets = {
  --- The MNIST digits: `images(split [, dir])` and `labels(split [, dir])`,
  -- split "train" (default) or "test".
  -- @table datasets.MNIST
  -- @usage local x, y = cnn.datasets.MNIST.images("train"), cnn.datasets.MNIST.labels("train")
  MNIST = dataset("MNIST", "mnist"),
  --- Fashion-MNIST: the API of MNIST, plus `classes`, the names of the ten labels.
  -- @table datasets.FashionMNIST
  -- @usage print(cnn.datasets.FashionMNIST.classes[1]) --> T-shirt/top
  FashionMNIST = FashionMNIST,
  --- Any IDX file (the format of MNIST's files, optionally gzipped): the
  -- tensor with the file's dimensions reversed, so 60000×28×28 bytes give
  -- 28×28×60000 (x fastest), and the file's element type ("ubyte",
  -- "sbyte", "int16", "int32", "float32", "float64").
  -- @function datasets.IDX
  -- @tparam string path the file (.gz is read as gzip)
  -- @tparam[opt] table opts dtype ("float32", the default, or "int32"),
  -- scale (a factor for float32 output, e.g. 1/255)
  -- @treturn Tensor
  -- @treturn string the file's element type
  -- @usage local x, kind = cnn.datasets.IDX(cnn.datasets.folder() .. "/mnist/t10k-labels-idx1-ubyte")
  IDX = function(path, opts)
    if type(path) ~= "string" then
      errors.raise(("IDX: path must be a string, got %s"):format(type(path)))
    end
    local ok, x, kind = pcall(core.read_idx, path, opts)
    if not ok then errors.relocate(x, "IDX", "read_idx") end
    return x, kind
  end,
  ImageFolder = require "cnn.imagefolder",
  CSV = require "cnn.csv",
  --- The folder the data sets are read from (nil if none is known).
  -- @function datasets.folder
  -- @treturn string|nil
  -- @usage print(cnn.datasets.folder())
  folder = function()
    local env = os.getenv("CNNLUA_DATA")
    if env and env ~= "" then return env end
    return source_data_folder()
  end,
}

return datasets

# English pages write dates as the Chinese ones do (config/formats/zh_Hans/formats.py).
from config.formats.zh_Hans.formats import *  # noqa: F403

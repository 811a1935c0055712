#!/usr/bin/env bash
# Installs the Debian packages BigCodeBench's tasks import, for /usr/bin/python3 (measured list: ../shared/design/bigcodebench-debian.md).
set -euo pipefail
if [ "$(id -u)" != "0" ]; then echo "run as root (apt-get)" >&2; exit 2; fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  python3-numpy python3-pandas python3-matplotlib python3-scipy python3-sklearn python3-seaborn python3-requests \
  python3-fake-factory python3-nltk python3-tz python3-bs4 python3-pil python3-dateutil python3-opencv python3-statsmodels \
  python3-django python3-flask python3-rsa python3-regex python3-psutil python3-cryptography python3-flask-mail python3-folium \
  python3-xlwt python3-wordcloud python3-skimage python3-geopy python3-sympy python3-mechanize python3-docx python3-openpyxl \
  python3-texttable python3-xmltodict python3-lxml python3-flask-restful python3-flask-login python3-flaskext.wtf \
  python3-werkzeug python3-wtforms python3-holidays python3-geopandas python3-shapely python3-soundfile python3-requests-mock \
  python3-natsort python3-prettytable python3-pycryptodome python3-pyquery python3-gensim python3-yaml python3-pyfakefs \
  python3-levenshtein python3-chardet python3-xlrd python-is-python3
echo "BigCodeBench packages installed; check with: npm run evaluate -- --dataset bigcodebench --reference"

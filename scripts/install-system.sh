#!/usr/bin/env bash
# Installs the Debian packages kakari needs, only those missing (quick the second time).
set -euo pipefail
PACKAGES=(
  python3-venv                                             # .venv (ensurepip)
  tesseract-ocr tesseract-ocr-jpn tesseract-ocr-jpn-vert   # OCR engine + Japanese models (offline)
  tesseract-ocr-eng tesseract-ocr-osd                      # digits model, orientation detection
  fonts-ipafont-gothic fonts-ipafont-mincho                # Japanese fonts for forms, reports, previews
  fonts-ipaexfont-gothic fonts-ipaexfont-mincho            # more printed fonts for the sample corpus
  fonts-noto-cjk fonts-vlgothic fonts-mplus                #   (samples/fonts.py); handwriting-style
  fonts-sawarabi-gothic fonts-sawarabi-mincho              #   fonts come from npm (scripts/setup_fonts.py)
  fonts-takao-gothic fonts-takao-mincho
  fontconfig                                               # fc-list: how kakari finds the fonts
  poppler-utils                                            # pdftoppm: report PDF checks
  chromium                                                 # Playwright drives Debian's Chromium
  xvfb                                                     # a display for the headed recorder (kakari systems record)
  redis-server                                             # Celery broker for the scale-out tests
  postgresql                                               # a private server for the PostgreSQL tests
)
# npm fetches the handwriting-style fonts; Node.js from elsewhere brings its own npm
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "Debian パッケージをインストールします: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

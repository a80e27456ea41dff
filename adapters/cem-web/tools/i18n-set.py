#!/usr/bin/env python3
"""Sets one section of a language catalogue: i18n-set.py LANG SECTION FILE.json

FILE.json holds the section's object; the catalogue keeps its other sections. The update is
done under a lock, so several people can set their sections at once."""
import fcntl, json, os, sys

lang, section, source = sys.argv[1:4]
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'assets', 'i18n')
path = os.path.join(here, f'{lang}.json')
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '.i18n.lock'), 'w') as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    with open(path, encoding='utf-8') as f:
        catalogue = json.load(f)
    with open(source, encoding='utf-8') as f:
        catalogue[section] = json.load(f)
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(catalogue, f, ensure_ascii=False, indent=2)
        f.write('\n')
    os.replace(tmp, path)

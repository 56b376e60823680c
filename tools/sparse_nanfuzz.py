#!/usr/bin/env python3
"""SPARSE searches over small keys holding objects with NaN sides, against
Tile38: random keys of 2-12 points and BOUNDS (15% of coordinates NaN,
some objects deleted again), then NEARBY/WITHIN/INTERSECTS ... SPARSE 1-3.
Which cell stops a SPARSE search depends on Tile38's one-leaf R-tree order
and root box, and on which objects are empty (a point NaN in both
coordinates): see `crates/collection/src/leaf.rs`. Prints the first
differences (reference reply, then ours) and a summary line. FLUSHDBs both
servers: use servers nobody else uses.

    python3 tools/sparse_nanfuzz.py SEED KEYS OURS_PORT REFERENCE_PORT
"""
import random
import socket
import sys

PORTS = (int(sys.argv[4]), int(sys.argv[3]))
def enc(c): return b'*%d\r\n'%len(c)+b''.join(b'$%d\r\n%s\r\n'%(len(a.encode()),a.encode()) for a in c)
def rd(f):
    line=f.readline(); t=line[:1]
    if t in b'+-:': return line[1:-2].decode()
    if t==b'$':
        n=int(line[1:-2]); 
        return None if n<0 else f.read(n+2)[:-2].decode(errors='replace')
    if t==b'*':
        n=int(line[1:-2]); return [rd(f) for _ in range(max(n,0))]
conns=[]
# the reference first, then ours: replies print as (reference, ours)
for p in PORTS:
    s=socket.create_connection(('127.0.0.1',p)); conns.append((s,s.makefile('rb')))
def both(c):
    out=[]
    for s,f in conns: s.sendall(enc(c)); out.append(rd(f))
    return out
rnd=random.Random(int(sys.argv[1])); diffs=0; total=0
def coord(base):
    r=rnd.random()
    if r<0.15: return 'nan'
    return '%.4f'%(base+rnd.uniform(-0.05,0.05))
for k in range(int(sys.argv[2])):
    both(['FLUSHDB'])
    setup=[]
    for i in range(rnd.randint(2,12)):
        if rnd.random()<0.5: c=['SET','k','o%d'%i,'POINT',coord(33),coord(-112)]
        else:
            c=['SET','k','o%d'%i,'BOUNDS',coord(32.97),coord(-112.03),coord(33.03),coord(-111.97)]
        setup.append(c); both(c)
        if rnd.random()<0.2:
            c=['DEL','k','o%d'%rnd.randint(0,i)]; setup.append(c); both(c)
    for q in range(6):
        sp=str(rnd.randint(1,3))
        kind=rnd.choice(['NEARBY','WITHIN','INTERSECTS'])
        if kind=='NEARBY': c=['NEARBY','k','SPARSE',sp,'IDS','POINT',coord(33),coord(-112),str(rnd.choice([1000,5000,20000]))]
        else: c=[kind,'k','SPARSE',sp,'IDS','BOUNDS','%.3f'%(33-rnd.random()*0.1),'%.3f'%(-112-rnd.random()*0.1),'%.3f'%(33+rnd.random()*0.1),'%.3f'%(-112+rnd.random()*0.1)]
        a,b=both(c); total+=1
        if a!=b:
            diffs+=1
            if diffs<=3: print(setup, c, a, b)
print('seed',sys.argv[1],'diffs',diffs,'of',total)
